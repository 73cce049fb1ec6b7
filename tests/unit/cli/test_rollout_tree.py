"""`slokeeper rollout get`'s tree and `rollout list`'s rows, from objects as the API returns them:
each revision under the ChangeRollout, its ReplicaSets, their pods with Ready, status, restarts
and age."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slokeeper.cli.rollout_get import list_row
from slokeeper.cli.rollout_tree import age, revisions, tree
from slokeeper.kube.canary import TRACK_LABEL, template_hash

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
OWNERS = {"target-uid": "target", "canary-uid": "canary"}


def _template(image: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "checkout", **labels}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


STABLE = _template("shop/checkout:1.1")
CANDIDATE = _template("shop/checkout:1.2")
CANARY = _template("shop/checkout:1.2", **{TRACK_LABEL: "canary"})  # what the operator runs
LONG_AGO = "2026-11-28T12:00:00Z"
CANARY_AT = "2026-12-01T11:58:00Z"


def _replica_set(
    name: str, owner: str, template: dict[str, Any], *, pods: tuple[int, int], created: str
) -> dict[str, Any]:
    """A ReplicaSet of ``pods`` (replicas, ready) as the Deployment controller makes it."""
    labels = {**template["metadata"]["labels"], "pod-template-hash": name[-5:]}
    labelled = {**template, "metadata": {"labels": labels}}
    replicas, ready = pods
    return {
        "metadata": {
            "name": name,
            "uid": f"{name}-uid",
            "creationTimestamp": created,
            "ownerReferences": [{"uid": owner, "controller": True}],
        },
        "spec": {"replicas": replicas, "template": labelled},
        "status": {"readyReplicas": ready},
    }


def _pod(name: str, replica_set: str, created: str, **state: Any) -> dict[str, Any]:
    container = {"ready": True, "restartCount": 0, "state": {"running": {}}, **state}
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "ownerReferences": [{"uid": f"{replica_set}-uid", "controller": True}],
        },
        "spec": {"containers": [{"name": "app"}]},
        "status": {"phase": "Running", "containerStatuses": [container]},
    }


ROLLOUT = {
    "metadata": {
        "name": "checkout",
        "namespace": "shop",
        "creationTimestamp": "2026-11-28T12:00:00Z",
    },
    "spec": {
        "targetRef": {"name": "checkout"},
        "steps": [{"weight": 5}, {"weight": 25}, {"weight": 50}],
    },
    "status": {
        "phase": "Progressing",
        "reason": "AnalysisPassed",
        "stable": {"templateHash": template_hash(STABLE)},
        "current": {
            "revision": {"templateHash": template_hash(CANDIDATE)},
            "step": 1,
            "steps": [
                {"step": 0, "canaryWeightPercent": 5},
                {"step": 1, "canaryWeightPercent": 25},
            ],
        },
    },
}
REPLICA_SETS = [
    _replica_set("checkout-6c7d8", "target-uid", STABLE, pods=(3, 3), created=LONG_AGO),
    _replica_set("checkout-canary-9f8e7", "canary-uid", CANARY, pods=(1, 0), created=CANARY_AT),
    _replica_set("payments-1a2b3", "someone-else", STABLE, pods=(2, 2), created=LONG_AGO),
]
PODS = [
    _pod("checkout-6c7d8-aaaaa", "checkout-6c7d8", "2026-11-28T12:00:00Z"),
    _pod("checkout-6c7d8-bbbbb", "checkout-6c7d8", "2026-11-30T12:00:00Z", restartCount=2),
    _pod(
        "checkout-canary-9f8e7-ccccc",
        "checkout-canary-9f8e7",
        "2026-12-01T11:59:15Z",
        ready=False,
        restartCount=3,
        state={"waiting": {"reason": "CrashLoopBackOff"}},
    ),
]


def test_a_canary_made_in_the_same_second_as_the_stable_replica_set_still_comes_first() -> None:
    # Creation times keep whole seconds; the API lists the stable ReplicaSet first here.
    same_second = [
        _replica_set("checkout-6c7d8", "target-uid", STABLE, pods=(4, 4), created=CANARY_AT),
        _replica_set("checkout-canary-9f8e7", "canary-uid", CANARY, pods=(1, 1), created=CANARY_AT),
    ]
    found = revisions(ROLLOUT, OWNERS, same_second)
    assert [r.roles for r in found] == [["canary"], ["stable"]]


def test_each_revision_holds_its_replica_sets_and_their_pods() -> None:
    found = revisions(ROLLOUT, OWNERS, REPLICA_SETS)
    assert [(r.template_hash, r.roles) for r in found] == [
        (template_hash(CANDIDATE), ["canary"]),  # newest first; the canary's own label left out
        (template_hash(STABLE), ["stable"]),
    ]
    lines = tree(ROLLOUT, found, PODS, NOW)
    text = "\n".join(lines)
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "AGE", "INFO"]
    assert lines[1].split() == [
        "⟳",
        "checkout",
        "ChangeRollout",
        "Progressing",
        "(AnalysisPassed)",
        "3d",
        "step",
        "2/3,",
        "canary",
        "25%",
    ]
    assert "payments" not in text, "a ReplicaSet of another Deployment is not in the tree"
    canary = next(line for line in lines if "checkout-canary-9f8e7-ccccc" in line)
    assert canary.split()[-5:] == ["Pod", "✖", "CrashLoopBackOff", "45s", "ready:0/1,restarts:3"]
    assert next(line for line in lines if "checkout-6c7d8-bbbbb" in line).split()[-3:] == [
        "Running",
        "24h",
        "ready:1/1,restarts:2",
    ]
    # The drawing: canary revision, its ReplicaSet, its pod; then the stable one, last.
    assert [line.split()[0] for line in lines[2:]] == [
        "├──#",
        "│",
        "│",
        "└──#",
        "└──⧉",
        "├──□",
        "└──□",
    ]


def test_ages_read_as_kubectl_writes_them() -> None:
    assert [
        age(stamp, NOW)
        for stamp in (
            "2026-12-01T11:59:15Z",
            "2026-12-01T11:55:00Z",
            "2026-12-01T07:00:00Z",
            "2026-11-28T12:00:00Z",
            None,
        )
    ] == ["45s", "5m", "5h", "3d", "-"]


def test_list_shows_step_and_weight_only_while_a_canary_runs() -> None:
    assert list_row(ROLLOUT, NOW) == [
        "shop",
        "checkout",
        "checkout",
        "Progressing",
        "2/3",
        "25%",
        "AnalysisPassed",
        "3d",
    ]
    at_rest = {**ROLLOUT, "status": {"phase": "Succeeded", "reason": "Promoted"}}
    assert list_row(at_rest, NOW)[3:7] == ["Succeeded", "-", "-", "Promoted"]
