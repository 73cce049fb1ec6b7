"""Benchmark: the SLO loop at 1,000 and 5,000 SLOs on the local control plane and Prometheus.

Applies N ratio SLOs over the traffic of one simulated Deployment, runs `slokeeper run` as its own
process, waits until every SLO's rules are loaded and every status shows figures, then watches
quiet cycles and prints: cycle wall time, Prometheus queries per cycle, status writes per quiet
cycle, the operator's peak RSS, recording series per SLO, and Prometheus' rule-group evaluation
time. Targets (issue 3): at 5,000 SLOs a cycle under 10 s, queries per cycle independent of N,
zero status writes in a quiet cycle, RSS under 300 MiB.

Run: .venv/bin/python bench/slo_scale.py 1000 5000
With --noisy (issue 20): N SLOs over traffic whose errors arrive at random, onboarded in batches
while the operator runs, and the figures of bench/slo_noisy.py:
    .venv/bin/python bench/slo_scale.py --noisy 10000 --batch 5000
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from slokeeper.cli.crds import install_crds
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.prometheus import ScrapeJob
from slokeeper.localcluster.stack import LocalStack
from slokeeper.simulator.server import TrafficSimulator

CYCLE = re.compile(
    r"SLO cycle: (\d+) SLOs, (\d+) queries, (\d+) status writes, (\d+) rules written, "
    r"(\d+) events in ([\d.]+)s"
)
NAMESPACE = "bench"


def slo(index: int) -> dict[str, Any]:
    selector = f'namespace="{NAMESPACE}",pod=~"checkout-.*"'
    window = "[{{.window}}]"
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": f"checkout-{index:05d}", "namespace": NAMESPACE},
        "spec": {
            "service": f"checkout-{index % 50}",
            "target": 99.0 if index % 2 else 99.9,
            "window": {"rolling": "28d" if index % 3 else "30d"},
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{{selector},code=~"5.."}}{window}))',
                    "total": f"sum(rate(http_requests_total{{{selector}}}{window}))",
                }
            },
        },
    }


def wait_for(what: str, check: Any, timeout: float, interval: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = check()
        if seen:
            return seen
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def cycles(log: Path) -> list[tuple[int, ...]]:
    found = []
    for match in CYCLE.finditer(log.read_text(errors="replace")):
        *counts, seconds = match.groups()
        found.append((*map(int, counts), float(seconds)))  # type: ignore[arg-type]
    return found


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prometheus_query(url: str, promql: str) -> float:
    result = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=30).json()
    values = result["data"]["result"]
    return float(values[0]["value"][1]) if values else 0.0


def run(count: int) -> None:
    print(f"\n== {count} SLOs ==", flush=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalStack(Path(workdir), scrape_interval="30s", rule_sync_seconds=10) as stack,
    ):
        cluster, prometheus = stack.cluster, stack.prometheus
        if cluster is None or prometheus is None:
            raise SystemExit("the local stack did not start")
        install_crds(cluster)
        cluster.kubectl("create", "namespace", NAMESPACE)
        cluster.kubectl(
            "create",
            "deployment",
            "checkout",
            "-n",
            NAMESPACE,
            "--image=shop/checkout:1.1-perfect",
            "--replicas=4",
        )
        api = api_client(str(cluster.kubeconfig))
        with TrafficSimulator(api, (NAMESPACE,), "app=checkout") as simulator:
            prometheus.add_job(ScrapeJob("simulator", (simulator.address,)))
            began = time.monotonic()
            manifests = Path(workdir) / "slos.yaml"
            manifests.write_text(yaml.safe_dump_all([slo(i) for i in range(count)]))
            cluster.kubectl("apply", "--server-side", "-f", str(manifests), timeout=900)
            print(f"applied {count} SLOs in {time.monotonic() - began:.0f}s", flush=True)

            log_path = Path(workdir) / "operator.log"
            with operator_process(
                cluster.kubeconfig, prometheus.url, log_path, interval="30s"
            ) as operator:
                measure(
                    count, cluster, prometheus.url, operator=operator, log=log_path, began=began
                )


def _all_ready(cluster: Any, count: int) -> bool:
    listed = cluster.kubectl("get", "slo", "-n", NAMESPACE, "-o", "json", timeout=300).stdout
    items = json.loads(listed)["items"]
    ready = sum(
        1
        for item in items
        for c in item.get("status", {}).get("conditions", [])
        if c["type"] == "Ready" and c["status"] == "True"
    )
    print(f"  {ready}/{count} SLOs Ready", flush=True)
    return ready == count


def measure(
    count: int,
    cluster: Any,
    url: str,
    *,
    operator: subprocess.Popen[bytes],
    log: Path,
    began: float,
) -> None:
    wait_for(
        "recorded series of every SLO",
        lambda: prometheus_query(url, "count(slokeeper_slo_requests_per_second)") >= count,
        timeout=1800,
        interval=15,
    )
    wait_for("every SLO Ready", lambda: _all_ready(cluster, count), timeout=1800, interval=30)
    print(f"all {count} SLOs evaluated {time.monotonic() - began:.0f}s after apply", flush=True)
    # The first batched cycle still replaces figures read directly (before the rules had data).
    wait_for(
        "a cycle reading recorded figures only",
        lambda: any(cycle[1] < 10 for cycle in cycles(log)),
        timeout=900,
    )
    seen = len(cycles(log))
    wait_for("three more cycles", lambda: len(cycles(log)) >= seen + 3, timeout=900)
    quiet = cycles(log)[seen : seen + 3]

    series = prometheus_query(
        url, "count({__name__=~'slokeeper_slo_error_ratio|slokeeper_slo_requests_per_second'})"
    )
    rules = requests.get(f"{url}/api/v1/rules", timeout=60).json()["data"]["groups"]
    group_seconds = sum(group["evaluationTime"] for group in rules)
    first = next(cycle for cycle in cycles(log) if cycle[0] > 0)

    print(f"first cycle: {first[3]} rules written, {first[2]} status writes in {first[5]:.1f}s")
    for slos, queries, writes, _rules, events, seconds in quiet:
        print(
            f"quiet cycle: {slos} SLOs, {queries} Prometheus queries, {writes} status writes, "
            f"{events} events, {seconds:.2f}s wall"
        )
    print(f"operator peak RSS: {peak_rss_mib(operator.pid):.0f} MiB")
    print(f"recording series per SLO: {series / count:.2f}")
    print(
        f"Prometheus rule-group evaluation: {group_seconds:.2f}s for all {len(rules)} groups "
        f"per evaluation, {1000 * group_seconds / max(1, len(rules)):.2f} ms per SLO"
    )


if __name__ == "__main__":
    # A timeout's SIGTERM unwinds the context managers, so the cluster and Prometheus stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000])
    parser.add_argument("--noisy", action="store_true", help="noisy traffic, onboarding batches")
    parser.add_argument("--batch", type=int, default=5000, help="SLOs applied at once (--noisy)")
    parser.add_argument(
        "--interval", type=int, default=30, help="scrape, rule and operator interval, s (--noisy)"
    )
    options = parser.parse_args()
    for size in options.sizes:
        if options.noisy:
            import slo_noisy  # beside this script; it imports from this one

            slo_noisy.run(size, min(size, options.batch), options.interval)
        else:
            run(size)
