"""The peers side by side (issue 18): Flagger and Argo Rollouts against slokeeper on the same local
cluster (KWOK nodes), the same simulated application and the same Prometheus (5 s scrape).

Flagger v1.36.1 and Argo Rollouts v1.10.2 are built from the Go module proxy into the toolchain's
cache by operator/slokeeper/localcluster/toolchain/peers.sh (the first time only) and run out of
cluster with the cluster's kubeconfig. Each guards a 4-pod `checkout` whose canary is judged on
its own error ratio in Prometheus, failing above 0.2 % (slokeeper's maxBurnRate 2 on a 99.9 % SLO):
an Argo Rollout (replica-share canary, first step 25 % = 1 pod) with a background AnalysisTemplate,
a Flagger Canary (Kubernetes provider: blue/green, the whole new version scaled up beside the
primary) with a MetricTemplate; slokeeper's ChangeRollout is bench/rollback_time.py's.

Parts:
  rollback  failing version (20 % errors) Ready → its pods gone and 4 stable pods Ready, RUNS each
  nodata    canary Ready without traffic; Prometheus stopped mid-analysis: 5 minutes each
  retry     rolled back, reverted to stable, the failing version shipped again
  rules     the same SLOS (1,000) as Sloth's rules and as ours in one Prometheus: rules, series
            and evaluation time per SLO, RSS of each set alone (bench/peers_rule_cost.py; no
            cluster, no peer build)

Run: .venv/bin/python bench/peers.py [--parts rollback,nodata,retry,rules] [--tools KEY,…]
     [--runs-for KEY=N,…] [--slos N] [--history-hours H] [RUNS]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import peers_rollback
import peers_rule_cost
import peers_scenarios
from peers_common import bench_stack

from slokeeper.localcluster.peers import ensure_peers
from slokeeper.localcluster.toolchain import ensure_toolchain

SCENARIO_TOOLS = ("slokeeper-2", "argo-10s", "flagger-10s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("runs", nargs="?", type=int, default=5, help="rollbacks per tool")
    parser.add_argument("--parts", default="rollback,nodata,retry,rules")
    parser.add_argument("--slos", type=int, default=1000, help="SLOs in the rules part")
    parser.add_argument("--history-hours", type=float, default=6.0, help="for the rules part")
    parser.add_argument("--tools", default=",".join(peers_rollback.TOOLS), help="for rollback")
    parser.add_argument(
        "--runs-for", default="", help="KEY=N,…: fewer runs for slow tools (flagger-defaults=3)"
    )
    arguments = parser.parse_args()
    parts = arguments.parts.split(",")
    began = time.monotonic()
    if "rules" in parts:
        with tempfile.TemporaryDirectory(prefix="slokeeper-rule-cost-") as workdir:
            peers_rule_cost.run(
                ensure_toolchain(), arguments.slos, arguments.history_hours, Path(workdir)
            )
        parts.remove("rules")
    if not parts:
        return
    peers = ensure_peers()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; Flagger {peers.flagger_version}, Argo Rollouts "
        f"{peers.argo_rollouts_version} (built or found in {time.monotonic() - began:.1f}s)",
        flush=True,
    )
    with bench_stack(peers) as bench:
        if "rollback" in parts:
            keys = arguments.tools.split(",")
            runs_for = {
                key: int(n)
                for key, _, n in (p.partition("=") for p in arguments.runs_for.split(",") if p)
            }
            results = peers_rollback.rollback_times(bench, keys, arguments.runs, runs_for)
            peers_rollback.print_medians(results)
        scenario_tools = [peers_rollback.TOOLS[key] for key in SCENARIO_TOOLS]
        if "nodata" in parts:
            peers_scenarios.no_traffic(bench, scenario_tools)
            peers_scenarios.prometheus_down(bench, scenario_tools)
        if "retry" in parts:
            peers_scenarios.revert_and_retry(bench, scenario_tools)
    print(f"bench/peers.py done in {time.monotonic() - began:.0f}s", flush=True)


if __name__ == "__main__":
    main()
