"""The Argo CD health checks on status objects of each shape slokeeper writes (the integration
test feeds them real objects read from the cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from argocd_health import argocd_health


def condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def slo(status: dict[str, Any] | None, generation: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "ServiceLevelObjective", "metadata": {"generation": generation}}
    if status is not None:
        body["status"] = status
    return body


def rollout(phase: str, *conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "ChangeRollout",
        "metadata": {"generation": 1},
        "status": {
            "observedGeneration": 1,
            "phase": phase,
            "message": "m",
            "conditions": list(conditions),
            **extra,
        },
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (slo(None), "Progressing"),
        (
            slo(
                {
                    "observedGeneration": 1,
                    "conditions": [condition("Ready", "True", "Evaluated", "ok")],
                }
            ),
            "Healthy",
        ),
        (
            slo(
                {"observedGeneration": 1, "conditions": [condition("Ready", "True", "Evaluated")]},
                2,
            ),
            "Progressing",
        ),
        (
            slo({"observedGeneration": 1, "conditions": [condition("Ready", "False", "NoData")]}),
            "Progressing",
        ),
        (
            slo(
                {
                    "observedGeneration": 1,
                    "conditions": [condition("Ready", "False", "QueryInvalid")],
                }
            ),
            "Degraded",
        ),
    ],
    ids=["new", "evaluated", "edited", "no-data", "bad-promql"],
)
def test_slo_health(body: dict[str, Any], expected: str) -> None:
    assert argocd_health(body)[0] == expected


def test_rollout_health_in_each_phase() -> None:
    ready = condition("Ready", "True", "Succeeded")
    not_ready = condition("Ready", "False", "Progressing")
    stalled = condition("Stalled", "True", "AnalysisFailed", "burn 12 > 2")
    assert argocd_health(rollout("Succeeded", ready))[0] == "Healthy"
    assert argocd_health(rollout("Progressing", not_ready))[0] == "Progressing"
    assert argocd_health(rollout("AwaitingApproval", not_ready))[0] == "Suspended"
    assert argocd_health(rollout("Progressing", not_ready, paused={"by": "dave"}))[0] == "Suspended"
    assert argocd_health(rollout("RolledBack", not_ready, stalled)) == (
        "Degraded",
        "AnalysisFailed: burn 12 > 2",
    )


def deployment(
    phase: str | None, available: int, *, paused: bool = True, updated: int = 0
) -> dict[str, Any]:
    annotations = {"slokeeper.dev/rollout-phase": phase} if phase else {}
    return {
        "kind": "Deployment",
        "metadata": {"name": "checkout", "generation": 2, "annotations": annotations},
        "spec": {"replicas": 4, "paused": paused},
        "status": {
            "observedGeneration": 2,
            "replicas": 4,
            "availableReplicas": available,
            "updatedReplicas": updated,
        },
    }


def test_a_deployment_held_by_slokeeper_in_each_phase() -> None:
    assert argocd_health(deployment("Succeeded", 4))[0] == "Healthy"
    assert argocd_health(deployment("Idle", 3))[0] == "Progressing"
    assert argocd_health(deployment("Progressing", 4))[0] == "Progressing"
    assert argocd_health(deployment("AwaitingApproval", 4))[0] == "Suspended"
    assert argocd_health(deployment("RolledBack", 4))[0] == "Degraded"


def test_other_deployments_keep_argo_cds_usual_rules() -> None:
    assert argocd_health(deployment(None, 4, paused=True, updated=4))[0] == "Suspended"
    assert argocd_health(deployment(None, 4, paused=False, updated=4))[0] == "Healthy"
    assert argocd_health(deployment(None, 2, paused=False, updated=4))[0] == "Progressing"
