"""Benchmark: how long `slokeeper status -A` takes over N ServiceLevelObjectives (issue 20's target:
under 3 s at 10,000).

Starts the local control plane (no Prometheus, no operator: the listing only reads), creates N SLOs
spread over 20 namespaces and gives each the status an evaluated SLO carries (conditions, seven
burn rates, forecasts, its rules object), written through the status subresource as the operator
writes it. Then it runs `slokeeper status -A` as a person would, several times, and prints the wall
time of each run beside its parts: starting the CLI (`slokeeper status --help`), and the LIST
the API server answers (size and time, read with the same client).

Run: .venv/bin/python bench/status_listing.py 10000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from slokeeper.api.base import GROUP, VERSION
from slokeeper.cli.crds import install_crds
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import ensure_toolchain

NAMESPACES = 20
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
CLI = [sys.executable, "-m", "slokeeper.cli.main"]


def slo(index: int) -> dict[str, Any]:
    selector = f'namespace="team-{index % NAMESPACES:02d}",service="svc-{index:05d}"'
    window = "[{{.window}}]"
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": f"svc-{index:05d}-availability", "namespace": _namespace(index)},
        "spec": {
            "service": f"svc-{index:05d}",
            "target": 99.9 if index % 2 else 99.5,
            "window": {"rolling": "30d"},
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{{selector},code=~"5.."}}{window}))',
                    "total": f"sum(rate(http_requests_total{{{selector}}}{window}))",
                }
            },
        },
    }


def _namespace(index: int) -> str:
    return f"team-{index % NAMESPACES:02d}"


def evaluated_status(index: int, now: str) -> dict[str, Any]:
    """What the operator writes for an evaluated, healthy SLO (one in a hundred burning)."""
    burn = 3.2 if index % 100 == 0 else 0.4 + (index % 7) / 10
    return {
        "observedGeneration": 1,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Evaluated", "lastTransitionTime": now,
             "message": "Evaluated from the recorded series."},
            {"type": "BudgetExhausted", "status": "False", "reason": "BudgetLeft",
             "lastTransitionTime": now, "message": "62.0 % of the error budget left."},
        ],
        "sliRatio": 0.99962,
        "errorBudgetRemainingRatio": 0.62 - (index % 50) / 100,
        "burnRates": [{"window": w, "burnRate": round(burn * (1 + i / 10), 3)}
                      for i, w in enumerate(WINDOWS)],
        "budgetExhaustion": [{"window": "1h", "burnRate": burn, "secondsLeft": 1.4e6,
                              "beforeWindowEnds": burn > 1}],
        "firingAlerts": [],
        "policyAction": "none",
        "periodStart": now,
        "periodEnd": now,
        "lastEvaluationTime": now,
        "rules": {"kind": "ConfigMap", "name": f"slo-svc-{index:05d}-availability",
                  "recordingRules": 9, "alertingRules": 4},
    }  # fmt: skip


def populate(cluster: LocalCluster, count: int, workdir: Path) -> None:
    for number in range(NAMESPACES):
        cluster.kubectl("create", "namespace", f"team-{number:02d}")
    began = time.monotonic()
    for first in range(0, count, 1000):
        batch = workdir / f"slos-{first}.yaml"
        batch.write_text(yaml.safe_dump_all(slo(i) for i in range(first, min(count, first + 1000))))
        cluster.kubectl("create", "-f", str(batch), timeout=600)
    created = time.monotonic() - began
    custom = client.CustomObjectsApi(api_client(str(cluster.kubeconfig), None))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def write_status(index: int) -> None:
        name = slo(index)["metadata"]["name"]
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, _namespace(index), "servicelevelobjectives", name,
            {"status": evaluated_status(index, now)},
        )  # fmt: skip

    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write_status, range(count)))
    print(
        f"{count} SLOs created in {created:.0f}s, their statuses written in "
        f"{time.monotonic() - began:.0f}s",
        flush=True,
    )


def measure(cluster: LocalCluster, count: int, runs: int) -> None:
    kubeconfig = str(cluster.kubeconfig)
    for run in range(1, runs + 1):
        began = time.monotonic()
        subprocess.run([*CLI, "status", "--help"], capture_output=True, check=True)
        startup = time.monotonic() - began
        custom = client.CustomObjectsApi(api_client(kubeconfig, None))
        began = time.monotonic()
        answer = custom.list_cluster_custom_object(
            GROUP, VERSION, "servicelevelobjectives", _preload_content=False
        )
        size = len(answer.data)
        listed = time.monotonic() - began
        began = time.monotonic()
        shown = subprocess.run(
            [*CLI, "status", "-A", "--kubeconfig", kubeconfig],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.monotonic() - began
        rows = len(shown.stdout.splitlines()) - 1
        print(
            f"run {run}: slokeeper status -A showed {rows} of {count} SLOs in {wall:.2f}s "
            f"(target < 3 s); parts: CLI start {startup:.2f}s, API server LIST "
            f"{size / 2**20:.1f} MiB in {listed:.2f}s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=10000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    toolchain = ensure_toolchain()
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(toolchain, Path(workdir)) as cluster,
    ):
        install_crds(cluster)
        populate(cluster, arguments.count, Path(workdir))
        measure(cluster, arguments.count, arguments.runs)


if __name__ == "__main__":
    main()
