"""Rollback drills in the rollout loop: when one may start, its tick (the pure steps are in
``rollout.drill``), its record in status, and the gate that asks for a recent one."""

from __future__ import annotations

from datetime import datetime

from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.api.rollout_status import ChangeRolloutStatus, DrillRecord
from slokeeper.rollout.drill import RUNNING as DRILL_RUNNING
from slokeeper.rollout.drill import Drill, DrillStage, DrillWorld, drill_step, last_success
from slokeeper.rollout.replicas import canary_replicas
from slokeeper.rollout.requests import PersonRequest
from slokeeper.rollout.states import REST_PHASES, Action, EnsureCanary, Plan, State
from slokeeper.rollout.workload import CanaryView, TargetView
from slokeeper.slo.durations import duration_seconds


def drill_to_run(  # noqa: PLR0917 - what a drill depends on, each named at the call
    status: ChangeRolloutStatus,
    asked: PersonRequest | None,
    before: State,
    target: TargetView,
    canary: CanaryView,
    now: datetime,
) -> Drill | None:
    """The drill running, or one asked for now while the rollout rests on its stable template
    with no canary (otherwise the request is only recorded: nothing to rehearse on)."""
    running = _running_drill(status)
    at_rest = (
        before.phase in REST_PHASES
        and before.candidate is None
        and before.stable == target.template_hash
        and not canary.present
    )
    if running is None and asked is not None and at_rest:
        return Drill(DrillStage.STARTING, now)
    return running


def drill_tick(  # noqa: PLR0917 - the tick's facts a drill reads
    drill: Drill | None,
    asked: PersonRequest | None,
    transition: tuple[State, State],
    plan: Plan,
    workload: tuple[TargetView, CanaryView],
    status: ChangeRolloutStatus,
    now: datetime,
) -> tuple[Drill | None, tuple[Action, ...], DrillRecord | None]:
    before, after = transition
    target, canary = workload
    if drill is None or before.stable is None:
        return drill, (), None
    drill, actions = drill_step(
        drill,
        DrillWorld(
            now=now,
            canary=EnsureCanary(before.stable, canary_replicas(target.replicas, plan.weights[0])),
            canary_ready=canary.present
            and canary.template_hash == before.stable
            and canary.ready_replicas >= max(1, canary.replicas),
            canary_present=canary.present,
            target_available=target.available,
            target_on_stable=target.template_hash == before.stable and after.candidate is None,
        ),
    )
    return drill, actions, _drill_record(drill, status, asked)


def _drill_of(record: DrillRecord) -> Drill:
    return Drill(
        DrillStage(record.stage),
        record.started_at,
        record.rolled_back_at,
        record.restored_at,
        record.message,
    )


def _running_drill(status: ChangeRolloutStatus) -> Drill | None:
    if status.drills and DrillStage(status.drills[0].stage) in DRILL_RUNNING:
        return _drill_of(status.drills[0])
    return None


def _drill_record(
    drill: Drill, status: ChangeRolloutStatus, asked: PersonRequest | None
) -> DrillRecord:
    previous = status.drills[0] if status.drills else None
    same = previous is not None and previous.started_at == drill.started
    signed_by = previous if same else asked
    return DrillRecord(
        stage=drill.stage.value,
        started_at=drill.started,
        by=signed_by.by if signed_by else "",
        reason=signed_by.reason if signed_by else "",
        rolled_back_at=drill.rolled_back,
        restored_at=drill.restored,
        time_to_restore_seconds=drill.time_to_restore_seconds,
        message=drill.message,
    )


def drill_missing(
    spec: ChangeRolloutSpec, status: ChangeRolloutStatus, now: datetime
) -> str | None:
    """Why a change of this risk may not start for want of a recent rollback drill."""
    required = spec.gates.drill
    if spec.risk not in required.required_for:
        return None
    within = duration_seconds(required.within)
    last = last_success([_drill_of(record) for record in status.drills])
    if last is not None and (now - last).total_seconds() <= within:
        return None
    ran = (
        f"the last successful one ran {last:%Y-%m-%d %H:%M} UTC"
        if last
        else "none has succeeded yet"
    )
    return (
        f"Risk {spec.risk.value} needs a successful rollback drill within {required.within}; "
        f"{ran}. Run `slokeeper rollout drill`."
    )
