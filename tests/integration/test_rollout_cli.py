"""User story: an SRE drives a ChangeRollout from the command line, as with kubectl: approves a
High-risk change (signed with the name the API server knows them by, not one they type), watches
it to the end, and gets an exit code a pipeline can act on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes import client

from polling import eventually
from resources import adopt_checkout, availability_slo, change_rollout, rollout_status
from running_operator import RunningOperator
from slokeeper.kube.identity import current_user
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import set_image


def slokeeper(
    kubeconfig: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", *args,
         "--kubeconfig", str(kubeconfig)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_approve_watch_and_exit_codes(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="High"),
    )  # fmt: skip
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "AwaitingApproval",
        "the High-risk change to wait for an approval",
    )
    shown = slokeeper(cluster.kubeconfig, "status", "checkout", "-n", namespace)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{namespace}/checkout: AwaitingApproval"), shown.stdout

    approved = slokeeper(
        cluster.kubeconfig, "approve", "checkout", "-n", namespace, "--reason", "CHG-12"
    )
    assert approved.returncode == 0, approved.stderr
    watched = slokeeper(cluster.kubeconfig, "status", "checkout", "-n", namespace, "--watch")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert "step 3, canary 50% of pods (planned 50%)" in watched.stdout
    assert watched.stdout.splitlines()[-1].lstrip().startswith("Succeeded")

    as_json = slokeeper(cluster.kubeconfig, "status", "checkout", "-n", namespace, "-o", "json")
    approval = json.loads(as_json.stdout)["history"][0]["approvals"][0]
    assert approval["by"] == current_user(api_client), "signed by who the API server says"
    assert approval["reason"] == "CHG-12"

    set_image(cluster, namespace, "1.3-bad")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "AwaitingApproval",
        "the next change to wait for its approval",
    )
    slokeeper(cluster.kubeconfig, "approve", "checkout", "-n", namespace)
    failed = slokeeper(cluster.kubeconfig, "status", "checkout", "-n", namespace, "--watch")
    assert failed.returncode == 3, failed.stdout + failed.stderr  # rolled back
    again = slokeeper(cluster.kubeconfig, "status", "checkout", "-n", namespace)
    assert again.returncode == 3, "rolled back without --watch too"
    missing = slokeeper(cluster.kubeconfig, "abort", "nothing-here", "-n", namespace)
    assert missing.returncode == 1
    assert "not found" in missing.stderr

    history = slokeeper(cluster.kubeconfig, "history", "checkout", "-n", namespace)
    assert history.returncode == 0, history.stderr
    rows = history.stdout.splitlines()
    assert "RolledBack" in rows[1]
    assert "shop/checkout:1.3-bad" in rows[1]
    assert "Promoted" in rows[2]
    assert "shop/checkout:1.2" in rows[2]
    assert rows[-1] == "All changes: 1 promoted, 1 rolled back, 0 aborted, 0 superseded."
    as_yaml = yaml.safe_load(
        slokeeper(cluster.kubeconfig, "history", "checkout", "-n", namespace, "-o", "yaml").stdout
    )
    assert [c["outcome"] for c in as_yaml["history"]] == ["RolledBack", "Promoted"]
    assert as_yaml["changeCounts"] == {
        "promoted": 1,
        "rolledBack": 1,
        "aborted": 0,
        "superseded": 0,
        "outOfBand": 0,
    }

    # Right after a new template, the status still says RolledBack (the last change): --watch
    # follows the new one instead (held for an approval here) and gives up with 4.
    set_image(cluster, namespace, "1.4")
    pending = slokeeper(
        cluster.kubeconfig, "status", "checkout", "-n", namespace, "--watch", "--timeout", "5"
    )
    assert pending.returncode == 4, pending.stdout + pending.stderr
    assert "after 5s of --watch" in pending.stderr
