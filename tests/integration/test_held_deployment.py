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
    eventually(  # recorded by the tick after it sees them (the pods may be seen first)
        lambda: rollout_status(cluster, namespace)["history"][0],
        lambda change: bool(change.get("restoredAt")),
        "the rollback's restoredAt",
    )

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


def _pods_by_image(core: client.CoreV1Api, namespace: str) -> dict[str, int]:
    """How many pods (not going) run each image, the target's and the canary's together."""
    pods = core.list_namespaced_pod(namespace, label_selector="app=checkout").items
    counted: dict[str, int] = {}
    for pod in pods:
        if pod.metadata.deletion_timestamp is None:
            image = pod.spec.containers[0].image
            counted[image] = counted.get(image, 0) + 1
    return counted


def _canary_uid(apps: client.AppsV1Api, namespace: str) -> str | None:
    try:
        found = apps.read_namespaced_deployment("checkout-canary", namespace)
    except client.exceptions.ApiException:
        return None
    return str(found.metadata.uid)


def test_a_canary_scaled_or_deleted_by_hand_is_put_back_and_recorded(
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
        lambda: _pods_by_image(core, namespace),
        lambda pods: pods == {"shop/checkout:1.1": 4, "shop/checkout:1.2": 1},
        "the 25 % step's one canary pod of 1.2 beside the 4 stable ones",
    )

    # Scaled by hand to 4 pods of a version no analysis passed: back to the step's one pod.
    cluster.kubectl("scale", "deployment/checkout-canary", "--replicas=4", "-n", namespace)
    said = eventually(
        lambda: out_of_band(cluster, namespace),
        lambda messages: any("scaled to 4 by hand" in m for m in messages),
        "an OutOfBandChange Event for the canary scaled by hand",
    )
    scaled = next(m for m in said if "scaled to 4 by hand" in m)
    assert "by hand (kubectl)" in scaled, scaled  # the tool, from the canary's managedFields
    assert "step 1 runs 1 canary pod(s): scaled back to 1" in scaled, scaled
    eventually(
        lambda: (
            _pods_by_image(core, namespace),
            ready_replicas(apps, namespace, "checkout-canary"),
        ),
        lambda seen: seen == ({"shop/checkout:1.1": 4, "shop/checkout:1.2": 1}, 1),
        "the canary back to one pod of 1.2, and no other pod of 1.2 left",
    )

    # Deleted by hand: recreated at its step's size, said, and the change goes on.
    before = rollout_status(cluster, namespace)["current"]
    assert before.get("canaryPodTemplateHash"), before  # the change's canary ran: on the record
    first = _canary_uid(apps, namespace)
    cluster.kubectl("delete", "deployment/checkout-canary", "-n", namespace)
    said = eventually(
        lambda: out_of_band(cluster, namespace),
        lambda messages: any("deleted by hand" in m for m in messages),
        "an OutOfBandChange Event for the canary deleted by hand",
    )
    deleted = next(m for m in said if "deleted by hand" in m)
    assert "recreated with 1 pod(s) of the candidate" in deleted, deleted
    eventually(
        lambda: _canary_uid(apps, namespace),
        lambda uid: uid not in (None, first),
        "a new canary Deployment in place of the one deleted",
    )
    eventually(
        lambda: (
            _pods_by_image(core, namespace),
            ready_replicas(apps, namespace, "checkout-canary"),
        ),
        lambda seen: seen == ({"shop/checkout:1.1": 4, "shop/checkout:1.2": 1}, 1),
        "the recreated canary's one Ready pod of 1.2, and no other pod of 1.2",
    )

    status = rollout_status(cluster, namespace)
    assert status["phase"] == "Progressing"
    assert status["changeCounts"]["outOfBand"] >= 2
    assert status["current"]["outOfBandChanges"] == status["changeCounts"]["outOfBand"]
    decided = [
        d["message"] for d in status["current"]["decisions"] if d["reason"] == "OutOfBandChange"
    ]
    assert any("scaled to 4 by hand" in m for m in decided), decided
    assert any("deleted by hand" in m for m in decided), decided
    assert only_stable()(target_pods(core, namespace)), "the target runs only its stable pods"


def test_a_canary_no_node_can_take_says_why_with_the_time_left_then_is_rolled_back(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """Issue 21's first scenario on KWOK (the local stack runs kube-scheduler): the canary's pod
    stays Pending. The status says so at once with the scheduler's words and the time left, the
    canary serves 0 % (WEIGHT), one Event says it, and the deadline rolls the change back."""
    core = client.CoreV1Api(api_client)
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, steps=LONG_STEPS, progressDeadline="40s"),
    )
    cluster.kubectl("patch", "deployment", "checkout", "-n", namespace, "-p", json.dumps(NO_NODE))
    waiting = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda status: status.get("reason") == "CanaryNotReady",
        "the status to say the canary's pods are not Ready",
    )
    assert waiting["phase"] == "Progressing"
    assert "didn't match Pod's node affinity/selector" in waiting["message"], waiting["message"]
    assert "s left of the 40s progress deadline" in waiting["message"], waiting["message"]
    current = waiting["current"]
    assert current["canaryWeightPercent"] == 0, "no canary pod is Ready: it serves nothing"
    assert current["steps"][-1]["canaryWeightPercent"] == 0
    assert current["canaryUnreadySince"]
    row = cluster.kubectl("get", "crollout", "checkout", "-n", namespace).stdout
    assert "CanaryNotReady" in row, row

    stopped = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=1),
        "the canary to be rolled back at its 40 s progress deadline",
        timeout=120,
    )
    assert stopped["reason"] == "ProgressDeadlineExceeded"
    assert "didn't match Pod's node affinity/selector" in stopped["message"]
    decided = [d["reason"] for d in stopped["history"][0]["decisions"]]
    assert decided.count("CanaryNotReady") == 1, f"said once, not once per tick: {decided}"
    said = [e["reason"] for e in events(cluster, namespace, "ChangeRollout")]
    assert said.count("CanaryNotReady") == 1, said
    assert "ProgressDeadlineExceeded" in said, said
    eventually(
        lambda: (target_pods(core, namespace), paused(cluster, namespace)),
        lambda seen: only_stable()(seen[0]) and seen[1],
        "4 Ready pods of 1.1 only, the target paused, no canary",
    )
