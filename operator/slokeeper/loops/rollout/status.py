"""A ChangeRollout's status: where the state machine's ``State`` is kept between ticks, and the
record of each change (steps, analyses with their figures, decisions, approvals, overrides).

``state_from_status`` and ``next_status`` are inverse on everything the machine needs, so an
operator restarted at any moment carries on from what it last wrote: the step, when it began,
the failures counted and since when the canary has gone without a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slokeeper.api.rollout_status import (
    AnalysisRecord,
    BudgetBurn,
    ChangeOutcome,
    ChangeRecord,
    ChangeRolloutStatus,
    Decision,
    DrillRecord,
    Measurement,
    PersonAction,
    Revision,
    StepRecord,
)
from slokeeper.loops.conditions import ConditionWriter
from slokeeper.rollout.analysis import Outcome, Verdict
from slokeeper.rollout.states import GATE_PHASES, Action, Event, Phase, Plan, State

HISTORY_LIMIT = 20
REFUSED_LIMIT = 20
ANALYSES_KEPT = 10
DECISIONS_KEPT = 50
APPROVALS_KEPT = 16
DRILLS_KEPT = 10
_ROLLBACK_OUTCOMES = {"Aborted": ChangeOutcome.ABORTED}


def state_from_status(status: ChangeRolloutStatus) -> State:
    """The machine's state as the last status written recorded it."""
    current = status.current
    return State(
        phase=status.phase,
        stable=status.stable.template_hash if status.stable else None,
        candidate=current.revision.template_hash if current else None,
        step=current.step if current else 0,
        step_started=current.step_started_at if current else None,
        failures=current.failed_analyses if current else 0,
        inconclusive_since=current.inconclusive_since if current else None,
        held_until=current.held_until if current else None,
        unready_since=current.canary_unready_since if current else None,
        ready_since=current.canary_ready_since if current else None,
        promotion_started=current.promotion_started_at if current else None,
        refused=tuple(status.refused_revisions),
        reason=status.reason,
        message=status.message,
    )


def status_json(status: ChangeRolloutStatus) -> dict[str, Any]:
    """The status as the API server stores it."""
    dumped: dict[str, Any] = status.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


@dataclass(frozen=True)
class TickFacts:
    """What else happened in one tick, besides the machine's own transition."""

    now: datetime
    generation: int
    target_images: tuple[str, ...]
    target_template: str
    canary_weight_percent: float = 0.0
    verdict: Verdict | None = None
    approvals: Sequence[PersonAction] = ()
    override: PersonAction | None = None
    paused: PersonAction | None = None
    requests: Sequence[tuple[str, PersonAction]] = field(default_factory=tuple)
    # No canary, and every replica of the target updated and available: service restored.
    restored: bool = False
    canary_pod_template_hash: str | None = None
    budget_burned: Sequence[BudgetBurn] = ()  # worked out when the change ends
    drill: DrillRecord | None = None  # the drill running (or just finished) this tick


def _action_name(before: State, after: State) -> str:
    if after.phase is Phase.ROLLED_BACK:
        return "Rollback"
    if after.phase is Phase.PROMOTING:
        return "Promote"
    if after.phase is Phase.SUCCEEDED:
        return "Complete"
    if after.phase is Phase.PROGRESSING and (
        before.phase is not Phase.PROGRESSING or after.step != before.step
    ):
        return "Advance"
    if after.phase in GATE_PHASES:
        return "Wait"
    return "Hold"


def _analysis(verdict: Verdict, step: int, now: datetime) -> AnalysisRecord:
    return AnalysisRecord(
        time=now,
        step=step,
        outcome=verdict.outcome,
        canary_requests=verdict.canary_requests,
        measurements=[
            Measurement(name=m.name, value=m.value, threshold=m.threshold, passed=m.passed)
            for m in verdict.measurements
        ],
        message=verdict.message[:4096],
    )


def _record_analysis(record: ChangeRecord, analysis: AnalysisRecord) -> None:
    record.analyses = [*record.analyses, analysis][-ANALYSES_KEPT:]
    if analysis.outcome is Outcome.FAIL:
        record.failed_analyses += 1
    step = next((s for s in record.steps if s.step == analysis.step), None)
    if step is None:
        return
    step.last_analysis = analysis
    if analysis.outcome is Outcome.PASS:
        step.passed_analyses += 1
    elif analysis.outcome is Outcome.FAIL:
        step.failed_analyses += 1
    else:
        step.inconclusive_analyses += 1


def _with_drill(drills: list[DrillRecord], drill: DrillRecord | None) -> list[DrillRecord]:
    """The drill of this tick in front: replacing its own earlier record, or new."""
    if drill is None:
        return drills
    if drills and drills[0].started_at == drill.started_at:
        drills = drills[1:]
    return [drill, *drills][:DRILLS_KEPT]


def _note_restore(history: list[ChangeRecord], facts: TickFacts) -> None:
    """A rolled-back change's time to restore ends when the canary is gone and the stable
    replicas are all available again (measured from the rollback decision, its finishedAt)."""
    last = history[0] if history else None
    failed = (ChangeOutcome.ROLLED_BACK, ChangeOutcome.ABORTED)
    if last is not None and last.outcome in failed and last.restored_at is None and facts.restored:
        last.restored_at = facts.now


def _count_out_of_band(status: ChangeRolloutStatus, events: Sequence[Event]) -> None:
    """A hand change put back counts against the change under way, else the last one."""
    undone = sum(1 for e in events if e.reason == "OutOfBandChange")
    if not undone:
        return
    status.change_counts.out_of_band += undone
    record = status.current or (status.history[0] if status.history else None)
    if record is not None:
        record.out_of_band_changes += undone


def _close(record: ChangeRecord, after: State, reason: str, now: datetime) -> ChangeRecord:
    if after.phase is Phase.SUCCEEDED and after.stable == record.revision.template_hash:
        outcome = ChangeOutcome.PROMOTED
    elif after.phase is Phase.ROLLED_BACK:
        outcome = _ROLLBACK_OUTCOMES.get(after.reason, ChangeOutcome.ROLLED_BACK)
    else:
        outcome = ChangeOutcome.SUPERSEDED
    for step in record.steps:
        step.finished_at = step.finished_at or now
    record.finished_at, record.outcome, record.reason = now, outcome, reason
    record.canary_weight_percent = 0
    return record


def _follow_steps(record: ChangeRecord, plan: Plan, after: State, facts: TickFacts) -> None:
    """Keep a StepRecord per step reached, the running one last."""
    if after.phase is not Phase.PROGRESSING or after.step_started is None:
        return
    if record.steps and record.steps[-1].step == after.step:
        record.steps[-1].canary_weight_percent = facts.canary_weight_percent
        return
    if record.steps:
        record.steps[-1].finished_at = facts.now
    record.steps = [
        *record.steps,
        StepRecord(
            step=after.step,
            weight=round(plan.weights[after.step]),
            canary_weight_percent=facts.canary_weight_percent,
            started_at=after.step_started,
        ),
    ][-len(plan.weights) :]


def _decisions(
    before: State, after: State, events: Sequence[Event], facts: TickFacts
) -> list[Decision]:
    """This tick's decisions: the machine's Events, then what people asked."""
    action = _action_name(before, after)
    taken = [
        Decision(time=facts.now, action=action, reason=e.reason, message=e.message) for e in events
    ]
    asked = [
        Decision(
            time=facts.now,
            action=name,
            reason="RequestedByPerson",
            message=f"{name} by {who.who}" + (f": {who.reason}" if who.reason else ""),
        )
        for name, who in facts.requests
    ]
    return taken + asked


def _finish(
    status: ChangeRolloutStatus,
    after: State,
    events: Sequence[Event],
    decisions: list[Decision],
    facts: TickFacts,
) -> list[Decision]:
    """Close the current change into history; returns the decisions left for the next one (the
    canary it starts)."""
    current = status.current
    assert current is not None
    reason = events[0].reason if events else after.reason
    closing = [d for d in decisions if d.reason != "CanaryStarted"]
    current.decisions = [*current.decisions, *closing][-DECISIONS_KEPT:]
    current.budget_burned = list(facts.budget_burned)
    closed = _close(current, after, reason, facts.now)
    if closed.outcome is not None:
        status.change_counts.count(closed.outcome)
    status.history = [closed, *status.history][:HISTORY_LIMIT]
    status.current = None
    return [d for d in decisions if d.reason == "CanaryStarted"]


def _follow_change(
    current: ChangeRecord, plan: Plan, after: State, facts: TickFacts, decisions: list[Decision]
) -> None:
    """The running change's record after this tick: the machine's state and what happened."""
    current.step = after.step
    current.step_number = after.step + 1
    current.step_started_at = after.step_started
    current.inconclusive_since = after.inconclusive_since
    current.held_until = after.held_until
    current.canary_unready_since = after.unready_since
    current.canary_ready_since = after.ready_since
    current.promotion_started_at = after.promotion_started
    current.failed_analyses = after.failures
    current.canary_weight_percent = (
        facts.canary_weight_percent if after.phase is Phase.PROGRESSING else 0
    )
    _follow_steps(current, plan, after, facts)
    current.approvals = [*current.approvals, *facts.approvals][-APPROVALS_KEPT:]
    current.canary_pod_template_hash = (
        current.canary_pod_template_hash or facts.canary_pod_template_hash
    )
    current.override = facts.override or current.override
    current.decisions = [*current.decisions, *decisions][-DECISIONS_KEPT:]


def _revision(template: str, facts: TickFacts) -> Revision:
    """A revision, with its images when it is the target's current template."""
    images = list(facts.target_images) if template == facts.target_template else []
    return Revision(template_hash=template, images=images)


def next_status(
    previous: ChangeRolloutStatus,
    plan: Plan,
    transition: tuple[State, State, tuple[Action, ...]],
    facts: TickFacts,
) -> ChangeRolloutStatus:
    """The status to write after one tick: the machine's ``(before, after, actions)`` plus the
    record of what happened (``previous`` is left as it was)."""
    before, after, actions = transition
    status = previous.model_copy(deep=True)
    events = [a for a in actions if isinstance(a, Event)]
    decisions = _decisions(before, after, events, facts)
    _note_restore(status.history, facts)
    _count_out_of_band(status, events)
    if status.current is not None and facts.verdict is not None:
        _record_analysis(status.current, _analysis(facts.verdict, before.step, facts.now))
    if status.current is not None and status.current.revision.template_hash != after.candidate:
        decisions = _finish(status, after, events, decisions, facts)
    if after.candidate is not None and status.current is None:
        status.current = ChangeRecord(
            revision=_revision(after.candidate, facts),
            stable_template_hash=after.stable,
            started_at=facts.now,
        )
    if status.current is not None:
        _follow_change(status.current, plan, after, facts, decisions)
    if after.stable is not None and (
        status.stable is None or status.stable.template_hash != after.stable
    ):
        status.stable = _revision(after.stable, facts)
    return ChangeRolloutStatus(
        observed_generation=facts.generation,
        conditions=_conditions(previous, after, facts),
        phase=after.phase,
        reason=after.reason,
        message=after.message[:4096],
        paused=facts.paused,
        stable=status.stable,
        current=status.current,
        history=status.history,
        change_counts=status.change_counts,
        drills=_with_drill(list(status.drills), facts.drill),
        refused_revisions=list(after.refused[-REFUSED_LIMIT:]),
    )


def _conditions(previous: ChangeRolloutStatus, after: State, facts: TickFacts) -> list[Any]:
    """kstatus conventions: Ready at rest, Reconciling while a change is under way, Stalled
    after a rollback until the template changes (what Argo CD and Flux show)."""
    stored = previous.model_dump(by_alias=True, mode="json", include={"conditions"})
    condition = ConditionWriter(stored, facts.generation, facts.now).condition
    reason, message = after.reason or after.phase.value, after.message
    at_rest = after.phase in (Phase.IDLE, Phase.SUCCEEDED)
    under_way = not at_rest and after.phase is not Phase.ROLLED_BACK
    return [
        condition("Ready", at_rest, reason, message),
        condition("Reconciling", under_way, reason if under_way else "AtRest", message),
        condition(
            "Stalled",
            after.phase is Phase.ROLLED_BACK,
            reason if after.phase is Phase.ROLLED_BACK else "NotStalled",
            message if after.phase is Phase.ROLLED_BACK else "",
        ),
    ]


def problem_status(
    previous: dict[str, Any] | None, generation: int, now: datetime, reason: str, message: str
) -> dict[str, Any]:
    """The status while something outside the state machine stops the rollout (the target is
    missing, the spec cannot be read): the conditions say so, the record is kept as it was."""
    status = dict(previous or {})
    condition = ConditionWriter(status, generation, now).condition
    status["observedGeneration"] = generation
    status["conditions"] = [
        condition("Ready", False, reason, message),
        condition("Reconciling", False, reason, message),
        condition("Stalled", True, reason, message),
    ]
    return status
