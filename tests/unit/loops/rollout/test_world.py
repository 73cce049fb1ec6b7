"""What the rollout loop tells the state machine: the canary's actual share of the Ready pods,
and what it knows of the running canary (how many replicas, who set them, whether it ran)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.api.rollout_status import ChangeRecord, ChangeRolloutStatus, Revision
from slokeeper.loops.rollout.observed import Observed
from slokeeper.loops.rollout.world import serving_weight, world_of
from slokeeper.rollout.requests import PendingRequests
from slokeeper.rollout.states import Gate, Phase, State
from slokeeper.rollout.workload import CanaryView, TargetView

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
RUNNING = State(Phase.PROGRESSING, stable="v1", candidate="v2")


def _seen(
    canary: CanaryView, ready_stable: int = 4, status: ChangeRolloutStatus | None = None
) -> Observed:
    spec = ChangeRolloutSpec.model_validate({"targetRef": {"name": "checkout"}})
    body: dict[str, Any] = {
        "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": []}}},
        "status": {"readyReplicas": ready_stable},
    }
    return Observed(
        owner=ObjectRef("ChangeRollout", "shop", "checkout", "u1"),
        resource_version="1",
        generation=1,
        spec=spec,
        plan=spec.to_plan(),
        stored_status={},
        status=status or ChangeRolloutStatus(),
        before=RUNNING,
        target=TargetView(body, "v2", 4, paused=True, rolled_out=False),
        canary=canary,
        asked=PendingRequests(),
        now=NOW,
        calendar=spec.gates.change_calendar().verdict(NOW),
        read_slo=lambda _: None,
    )


def test_the_weight_is_the_canarys_share_of_ready_pods_and_zero_until_one_is_ready() -> None:
    pending = CanaryView(present=True, template_hash="v2", replicas=1, ready_replicas=0)
    assert serving_weight(_seen(pending)) == 0
    ready = CanaryView(present=True, template_hash="v2", replicas=1, ready_replicas=1)
    assert serving_weight(_seen(ready)) == 20  # 1 of 5 Ready pods, whatever the step plans
    assert serving_weight(_seen(ready, ready_stable=1)) == 50
    gone = CanaryView(present=False, ready_replicas=1)
    assert serving_weight(_seen(gone)) == 0, "a canary being deleted serves nothing of ours"


def test_the_machine_learns_the_canarys_size_who_scaled_it_and_whether_it_ran() -> None:
    scaled = CanaryView(
        present=True,
        template_hash="v2",
        replicas=4,
        ready_replicas=1,
        scaled_by="kubectl-scale at 2026-11-25T11:59:00Z",
        problems=("pod a Unschedulable: no", "pod b ContainerCreating"),
    )
    world = world_of(_seen(scaled), None, Gate(), None)
    assert (world.canary_replicas, world.canary_scaled_by) == (4, scaled.scaled_by)
    assert world.canary_problem == "pod a Unschedulable: no; pod b ContainerCreating"
    assert not world.canary_ran, "no canary pod of this change seen yet"

    record = ChangeRecord(
        revision=Revision(template_hash="v2"), canary_pod_template_hash="abc", started_at=NOW
    )
    ran = _seen(CanaryView(present=False), status=ChangeRolloutStatus(current=record))
    assert world_of(ran, None, Gate(), None).canary_ran
    other = record.model_copy(update={"revision": Revision(template_hash="v3")})
    moved_on = _seen(CanaryView(present=False), status=ChangeRolloutStatus(current=other))
    assert not world_of(moved_on, None, Gate(), None).canary_ran
