"""While a step's canary waits for its pods: what the status says, when a person is told, and the
progress deadline that ends the wait; and how a pause shows while a step runs.

Called by ``state_machine`` for a change in Progressing. A canary's pods take a few seconds to
start at every step, so the status and an Event say ``CanaryNotReady`` only once the wait has
lasted ``notice_seconds`` (at most 15 s, a quarter of the deadline for short ones): a person hears
of a canary that does not come up, not of every pod that starts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from slokeeper.rollout.replicas import canary_replicas
from slokeeper.rollout.states import (
    EnsureCanary,
    Event,
    GateKind,
    PauseTarget,
    Phase,
    Plan,
    Result,
    State,
    World,
)
from slokeeper.rollout.transitions import rollback

NOT_READY = "CanaryNotReady"
NOTICE_SECONDS = 15.0
# Reasons that only say the step goes on as planned: a pause shows over them, and is shown over.
_ON_PLAN = frozenset(
    {
        "CanaryStarted",
        "StepAdvanced",
        "StepPromotedByHand",
        "AnalysisPassed",
        "CanaryReady",
        "Resumed",
    }
)


def ensure_canary(plan: Plan, state: State, world: World) -> EnsureCanary:
    """The canary the current step asks for: the candidate, at the step's share of the pods."""
    assert state.candidate is not None
    return EnsureCanary(
        state.candidate,
        canary_replicas(world.stable_replicas, plan.weights[state.step]),
        seen_replicas=world.canary_replicas if world.canary_present else None,
    )


def notice_seconds(plan: Plan) -> float:
    """How long a step's canary may be starting before the status and an Event say so."""
    return min(NOTICE_SECONDS, plan.progress_deadline_seconds / 4)


def unready(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """The step's canary pods are not all Ready: no analysis can judge them. Past the progress
    deadline (an image that cannot start, a crash loop, no room to schedule) the change is
    rolled back, naming what the pods say; before it, the status says what they say and until
    when they have."""
    since = state.unready_since or now
    waited = (now - since).total_seconds()
    deadline = plan.progress_deadline_seconds
    if waited >= deadline:
        problem = world.canary_problem or "no reason given by the pods"
        message = (
            f"The canary's pods were not Ready within the progress deadline of {deadline:g}s: "
            f"{problem}"
        )
        return rollback(state, "ProgressDeadlineExceeded", message)
    waiting = replace(state, unready_since=since, ready_since=None)
    actions = (PauseTarget(), ensure_canary(plan, waiting, world))
    if waited < notice_seconds(plan):
        return waiting, actions
    problem = world.canary_problem or "the pods do not say why yet"
    if state.reason == NOT_READY and problem in state.message:
        return waiting, actions  # said already, and the pods still say the same
    until = since + timedelta(seconds=deadline)
    message = (
        f"Step {state.step + 1}'s canary has not had its pods Ready since {since:%H:%M:%S} UTC: "
        f"{problem}. {deadline - waited:.0f}s left of the {deadline:g}s progress deadline: "
        f"rolled back at {until:%H:%M:%S} UTC unless they are Ready by then."
    )
    said = replace(waiting, reason=NOT_READY, message=message)
    notice = () if state.reason == NOT_READY else (Event(NOT_READY, message, warning=True),)
    return said, (*actions, *notice)


def now_ready(state: State, now: datetime) -> State:
    """The step's canary has every pod Ready (again): the evidence clock runs from here, and a
    status that said it was not Ready says it is."""
    ready = replace(state, unready_since=None, ready_since=state.ready_since or now)
    if state.reason != NOT_READY:
        return ready
    return replace(
        ready,
        reason="CanaryReady",
        message=f"Step {state.step + 1}'s canary has its pods Ready; its analysis runs.",
    )


def ready_event(before: State, after: State) -> tuple[Event, ...]:
    """An Event closing a CanaryNotReady one, once the pods are Ready."""
    if before.reason == NOT_READY and after.reason == "CanaryReady":
        return (Event("CanaryReady", after.message),)
    return ()


def show_pause(after: State, world: World) -> State:
    """A pause asked for mid-step shows at once (reason Paused) over a step going as planned, and
    its end shows too; a problem (not Ready, no verdict, a failure) keeps being the reason."""
    if after.phase is not Phase.PROGRESSING:
        return after
    paused = world.gate.kind is GateKind.PAUSED
    if paused and after.reason in _ON_PLAN:
        return replace(after, reason="Paused", message=world.gate.message)
    if not paused and after.reason == "Paused":
        message = f"The pause was lifted: step {after.step + 1} goes on."
        return replace(after, reason="Resumed", message=message)
    return after
