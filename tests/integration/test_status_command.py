"""User story: `slokeeper status` shows every SLO the operator evaluates, with the same figures
as its status, in a table (or JSON for scripts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kubernetes import client

from polling import eventually
from resources import apply, availability_slo, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import deploy_ready


def test_status_lists_each_slo_with_its_budget(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    deploy_ready(cluster, client.AppsV1Api(api_client), namespace, 2, "shop/checkout:1.1")
    apply(cluster, availability_slo(namespace))
    evaluated = eventually(
        lambda: read_status(cluster, "slo", namespace, "checkout-availability"),
        lambda s: ready_condition(s).get("status") == "True",
        "the SLO to be evaluated",
        timeout=90,
    )

    def slokeeper_status(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slokeeper.cli.main", "status", "-n", namespace,
             "--kubeconfig", str(cluster.kubeconfig), *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    table = slokeeper_status()
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split()[:4] == ["NAMESPACE", "NAME", "TARGET", "SLI"]
    assert row.split()[:3] == [namespace, "checkout-availability", "99.9%"]
    assert row.rstrip().endswith("yes")
    listed = json.loads(slokeeper_status("-o", "json").stdout)
    assert [item["metadata"]["name"] for item in listed] == ["checkout-availability"]
    assert listed[0]["status"]["errorBudgetRemainingRatio"] <= 1
    assert evaluated["policyAction"] in row.split()


def test_kubectl_runs_it_as_a_plugin(cluster: LocalCluster, namespace: str) -> None:
    """`kubectl slo …` finds the kubectl-slo script installed beside slokeeper on $PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    listed = subprocess.run(
        [str(cluster.toolchain.kubectl), "slo", "status", "-n", namespace,
         "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "PATH": path},
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "No ServiceLevelObjectives found."
