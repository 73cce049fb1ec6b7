"""User story: our operations guide says every deploy must have a tested rollback. A High-risk
change is held until a rollback drill succeeded within the last 30 days; `slokeeper rollout
drill` rehearses one in production conditions (a canary of the stable template, rolled back by
the same actions as a failed analysis) and records its measured time to restore."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from kubernetes import client

from polling import eventually
from resources import adopt_checkout, availability_slo, change_rollout, rollout_status
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import ready_images, ready_replicas, set_image


def events(cluster: LocalCluster, namespace: str) -> list[str]:
    listed = cluster.kubectl(
        "get", "events", "-n", namespace, "--field-selector", "involvedObject.kind=ChangeRollout",
        "-o", "jsonpath={.items[*].reason}",
    )  # fmt: skip
    return listed.stdout.split()


def latest_drill(status: dict[str, Any]) -> dict[str, Any]:
    drills: list[dict[str, Any]] = status.get("drills", [])
    return drills[0] if drills else {}


def test_a_drill_is_required_for_high_risk_and_records_its_time_to_restore(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    gates = {"drill": {"requiredFor": ["High"], "within": "30d"}, "approval": {"requiredFor": []}}
    rollout = change_rollout(namespace, risk="High", gates=gates)
    adopt_checkout(cluster, api_client, namespace, availability_slo(namespace), rollout)

    set_image(cluster, namespace, "1.2")
    blocked = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Blocked",
        "the High-risk change held for want of a drill",
    )
    assert blocked["message"] == (
        "Risk High needs a successful rollback drill within 30d; none has succeeded yet. "
        "Run `slokeeper rollout drill`."
    )
    set_image(cluster, namespace, "1.1")  # back on stable: a drill rehearses on it
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") in ("Idle", "Succeeded") and "current" not in s,
        "the rollout at rest on 1.1",
    )

    asked = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", "drill", "checkout", "-n",
         namespace, "--reason", "quarterly rehearsal", "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    drilled = eventually(
        lambda: latest_drill(rollout_status(cluster, namespace)),
        lambda drill: drill.get("stage") in ("Succeeded", "Failed", "Interrupted"),
        "the drill to finish",
        timeout=90,
    )
    assert drilled["stage"] == "Succeeded", drilled
    print(f"drill: time to restore {drilled['timeToRestoreSeconds']}s")  # for the record
    assert drilled["reason"] == "quarterly rehearsal"
    assert drilled["rolledBackAt"] < drilled["restoredAt"]
    assert 0 < drilled["timeToRestoreSeconds"] < 10, drilled
    assert drilled["message"] == f"Restored in {drilled['timeToRestoreSeconds']:.1f}s."
    assert {"DrillRequested", "DrillRollback", "DrillSucceeded"} <= set(events(cluster, namespace))
    assert ready_replicas(client.AppsV1Api(api_client), namespace, "checkout-canary") == -1
    core = client.CoreV1Api(api_client)
    assert ready_images(core, namespace) == ["shop/checkout:1.1"] * 4

    set_image(cluster, namespace, "1.2")
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Progressing",
        "the High-risk change to start now that a drill succeeded",
    )
    assert (started.get("current") or {}).get("revision", {}).get("images") == ["shop/checkout:1.2"]
