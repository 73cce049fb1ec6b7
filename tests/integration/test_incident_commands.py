"""User story: at 3 a.m. the on-call engineer reaches for `rollout undo` and `rollout restart`,
which kubectl refuses on a paused Deployment. `slokeeper rollout undo` goes back to a template
that was stable here at once — no approval, no canary, even on a High-risk ChangeRollout — and
refuses the template it replaced until retried; `slokeeper rollout restart` replaces the stable
pods without a canary; both are recorded with who did it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kubernetes import client

from polling import eventually
from resources import (
    adopt_checkout,
    ask,
    availability_slo,
    change_rollout,
    phase_is,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.kube.identity import current_user
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import ready_images, set_image


def slokeeper(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", *args,
         "--kubeconfig", str(kubeconfig)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def pod_names(core: client.CoreV1Api, namespace: str) -> set[str]:
    pods = core.list_namespaced_pod(namespace, label_selector="app=checkout").items
    return {p.metadata.name for p in pods if p.metadata.deletion_timestamp is None}


def no_canary_ever(status: dict[str, object]) -> bool:
    change = status["history"][0]  # type: ignore[index]
    return not change.get("steps") and not change.get("analyses")  # type: ignore[union-attr]


def test_undo_and_restart_act_at_once_and_are_recorded(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    core, me = client.CoreV1Api(api_client), current_user(api_client)
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="High"),
    )  # fmt: skip
    # 1.2 shipped the usual way: approved, promoted.
    set_image(cluster, namespace, "1.2")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "gate")
    ask(cluster, namespace, "approve", by="bob")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("Progressing"), "canary")
    ask(cluster, namespace, "promote", by="bob")
    eventually(
        lambda: rollout_status(cluster, namespace), phase_is("Succeeded", changes=1), "1.2 stable"
    )

    # 1.3 waits for its approval; undo drops it and keeps 1.2, refusing 1.3.
    set_image(cluster, namespace, "1.3")
    waiting = eventually(
        lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "1.3 at the gate"
    )
    candidate = waiting["current"]["revision"]["templateHash"]
    undone = slokeeper(cluster.kubeconfig, "undo", "checkout", "-n", namespace, "--reason", "INC-7")
    assert undone.returncode == 0, undone.stderr
    assert f"template {candidate} is refused" in undone.stdout, undone.stdout
    dropped = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: len(s.get("history", [])) == 2 and s.get("phase") in ("RolledBack", "Idle"),
        "the undo to drop 1.3",
    )
    assert (dropped["history"][0]["outcome"], dropped["history"][0]["reason"]) == (
        "RolledBack",
        "Undone",
    )
    assert candidate in dropped["refusedRevisions"]
    decisions = [d["message"] for d in dropped["history"][0]["decisions"]]
    assert f"undo by {me}: INC-7" in decisions, decisions

    # At rest on 1.2: undo goes back to 1.1 (stable before 1.2) at once — no approval, no canary.
    before = pod_names(core, namespace)
    undone = slokeeper(cluster.kubeconfig, "undo", "checkout", "-n", namespace)
    assert undone.returncode == 0, undone.stderr
    assert "rolled back to revision 1" in undone.stdout, undone.stdout
    back = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Succeeded", changes=3),
        "1.1 rolled out by the undo, past the High-risk approval gate",
    )
    assert back["history"][0]["reason"] == "Promoted"
    assert no_canary_ever(back), back["history"][0]
    eventually(
        lambda: ready_images(core, namespace),
        lambda images: images == ["shop/checkout:1.1"] * 4,
        "4 pods of 1.1",
    )
    assert not before & pod_names(core, namespace)

    # Restart: every pod replaced, still 1.1, no canary, no approval.
    before = pod_names(core, namespace)
    restarted = slokeeper(cluster.kubeconfig, "restart", "checkout", "-n", namespace)
    assert restarted.returncode == 0, restarted.stderr
    again = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Succeeded", changes=4),
        "the restart to roll out without a canary",
    )
    assert no_canary_ever(again), again["history"][0]
    assert any(d["reason"] == "Restart" for d in again["history"][0]["decisions"])
    eventually(
        lambda: (ready_images(core, namespace), pod_names(core, namespace)),
        lambda seen: seen[0] == ["shop/checkout:1.1"] * 4 and not seen[1] & before,
        "4 new pods of 1.1",
    )

    # With a change under way, restart says what to do instead.
    set_image(cluster, namespace, "1.4")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "gate")
    refused = slokeeper(cluster.kubeconfig, "restart", "checkout", "-n", namespace)
    assert refused.returncode == 1
    assert "slokeeper rollout abort checkout" in refused.stderr, refused.stderr
