"""User story: a guarded Deployment cannot be shipped around its ChangeRollout, and no phase keeps a
bad version serving. A person who resumes the target by hand while a change waits for approval —
in a loop, or while the operator is frozen until every pod runs the unapproved version — edits the
canary, or adds a second ChangeRollout for the same Deployment, finds it put back within seconds
with only pods of the stable template serving, and an Event saying what happened and with which
tool. A promotion whose new pods cannot start, or that a person aborts, ends with the stable pods
back and the target paused."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable

from kubernetes import client

from polling import eventually
from resources import (
    adopt_checkout,
    apply,
    ask,
    availability_slo,
    change_rollout,
    events,
    get,
    phase_is,
    read_status,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import ready_replicas, set_image

LONG_STEPS = [{"weight": 25, "pause": "10m"}]
NO_NODE = {"spec": {"template": {"spec": {"nodeSelector": {"slokeeper.dev/no-such-node": "x"}}}}}


def target_pods(core: client.CoreV1Api, namespace: str) -> list[tuple[str, bool]]:
    """(image, Ready) of every pod of the target itself (not its canary) that is not going."""
    pods = core.list_namespaced_pod(namespace, label_selector="app=checkout").items
    return sorted(
        (
            p.spec.containers[0].image,
            any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or [])),
        )
        for p in pods
        if p.metadata.deletion_timestamp is None
        and "slokeeper.dev/track" not in (p.metadata.labels or {})
    )


def only_stable(version: str = "1.1") -> Callable[[list[tuple[str, bool]]], bool]:
    return lambda pods: pods == [(f"shop/checkout:{version}", True)] * 4


def out_of_band(cluster: LocalCluster, namespace: str) -> list[str]:
    return [
        e["message"]
        for e in events(cluster, namespace, "ChangeRollout")
        if e["reason"] == "OutOfBandChange"
    ]


def paused(cluster: LocalCluster, namespace: str) -> bool:
    return bool(get(cluster, "deployment", namespace, "checkout")["spec"].get("paused"))


def test_hand_resumes_while_a_change_waits_for_approval_leave_only_stable_pods(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    core = client.CoreV1Api(api_client)
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, risk="High", steps=LONG_STEPS),
    )
    set_image(cluster, namespace, "1.2")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "the gate")

    # Resumed by hand 20 times in a row: each resume starts pods of 1.2 in the target's own
    # ReplicaSet; every one is scaled away again, the target paused, the change still waiting.
    for _ in range(20):
        cluster.kubectl("rollout", "resume", "deployment/checkout", "-n", namespace, check=False)
    eventually(
        lambda: (target_pods(core, namespace), paused(cluster, namespace)),
        lambda seen: only_stable()(seen[0]) and seen[1],
        "only the 4 stable pods of 1.1, and the target paused again",
    )
    status = rollout_status(cluster, namespace)
    assert status["phase"] == "AwaitingApproval"
    assert status["changeCounts"]["outOfBand"] >= 1
    assert status["current"]["outOfBandChanges"] == status["changeCounts"]["outOfBand"]
    said = eventually(lambda: out_of_band(cluster, namespace), bool, "an OutOfBandChange Event")
    # kubectl set image made the change; who resumed it is only in the audit log.
    assert "the last other tool to change its spec: kubectl-set at" in said[0], said
    assert "scaled back to the stable template" in said[0], said

    # The operator frozen while the resume rolls 1.2 out to every pod: once it runs again, the
    # stable ReplicaSet (0 pods by then) is brought back and no 1.2 pod is left.
    os.kill(operator_process.process.pid, signal.SIGSTOP)
    try:
        cluster.kubectl("rollout", "resume", "deployment/checkout", "-n", namespace)
        eventually(
            lambda: target_pods(core, namespace),
            only_stable("1.2"),
            "the unapproved 1.2 on every pod while the operator is frozen",
        )
    finally:
        os.kill(operator_process.process.pid, signal.SIGCONT)
    eventually(
        lambda: (target_pods(core, namespace), paused(cluster, namespace)),
        lambda seen: only_stable()(seen[0]) and seen[1],
        "the 4 stable pods of 1.1 back, and no pod of 1.2",
        timeout=90,
    )
    assert rollout_status(cluster, namespace)["phase"] == "AwaitingApproval"


def test_an_edited_canary_and_a_second_rollout_change_nothing(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, steps=LONG_STEPS),
    )
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"), lambda n: n == 1, "canary"
    )

    cluster.kubectl(
        "set", "image", "deployment/checkout-canary", "checkout=shop/checkout:6.6.6-evil",
        "-n", namespace,
    )  # fmt: skip

    def canary_images() -> list[str]:
        pods = core.list_namespaced_pod(namespace, label_selector="slokeeper.dev/track=canary")
        return sorted(p.spec.containers[0].image for p in pods.items)

    eventually(
        lambda: (canary_images(), out_of_band(cluster, namespace)),
        lambda seen: seen[0] == ["shop/checkout:1.2"] and bool(seen[1]),
        "the canary back on the candidate 1.2, and an OutOfBandChange Event",
    )
    assert "6.6.6" not in " ".join(canary_images())

    second = change_rollout(namespace)
    second["metadata"]["name"] = "checkout-again"
    apply(cluster, second)
    refused = eventually(
        lambda: read_status(cluster, "crollout", namespace, "checkout-again"),
        lambda s: any(c.get("reason") == "TargetGuardedByAnother" for c in s.get("conditions", [])),
        "the second ChangeRollout to say the Deployment is guarded by the first",
    )
    ready = next(c for c in refused["conditions"] if c["type"] == "Ready")
    assert "already guarded by ChangeRollout checkout" in ready["message"]
    cluster.kubectl("delete", "crollout", "checkout-again", "-n", namespace)
    # Deleting it handed nothing back: the first change still runs, the target stays paused.
    assert rollout_status(cluster, namespace)["phase"] == "Progressing"
    assert paused(cluster, namespace)
    assert ready_replicas(apps, namespace, "checkout-canary") == 1


def test_a_promotion_that_cannot_finish_or_is_aborted_ends_on_the_stable_pods(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    core = client.CoreV1Api(api_client)
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, steps=LONG_STEPS, progressDeadline="30s"),
    )

    # A template no node can take, promoted by hand before its canary was ever Ready: the
    # target rolls it out, its new pods stay Pending, a stable pod is gone.
    cluster.kubectl("patch", "deployment", "checkout", "-n", namespace, "-p", json.dumps(NO_NODE))
    eventually(lambda: rollout_status(cluster, namespace), phase_is("Progressing"), "the canary")
    ask(cluster, namespace, "promote", by="alice", reason="looks fine")
    eventually(
        lambda: target_pods(core, namespace),
        lambda pods: any(not ready for _, ready in pods),
        "Pending pods of the promoted template beside the stable ones",
    )
    stopped = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=1),
        "the promotion to be stopped at its 30 s progress deadline",
        timeout=120,
    )
    assert stopped["reason"] == "ProgressDeadlineExceeded"
    assert "made no progress within the progress deadline of 30s" in stopped["message"]
    assert "didn't match Pod's node affinity/selector" in stopped["message"]
    eventually(
        lambda: (target_pods(core, namespace), paused(cluster, namespace)),
        lambda seen: only_stable()(seen[0]) and seen[1],
        "4 Ready pods of 1.1 only, the target paused",
    )
    assert read_status(cluster, "crollout", namespace, "checkout")["history"][0]["restoredAt"]

    # The same, aborted by a person mid-promotion (a deadline long enough not to come first).
    apply(cluster, change_rollout(namespace, steps=LONG_STEPS, progressDeadline="5m"))
    set_image(cluster, namespace, "1.3")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("Progressing"), "the canary")
    ask(cluster, namespace, "promote", by="alice")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("Promoting"), "the promotion")
    ask(cluster, namespace, "abort", by="bob", reason="wrong build")
    aborted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=2),
        "the abort to stop the promotion",
    )
    assert (aborted["history"][0]["outcome"], aborted["reason"]) == ("Aborted", "Aborted")
    eventually(
        lambda: (target_pods(core, namespace), paused(cluster, namespace)),
        lambda seen: only_stable()(seen[0]) and seen[1],
        "4 Ready pods of 1.1 only after the abort, the target paused",
    )
