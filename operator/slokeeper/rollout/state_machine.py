"""The rollout state machine: ``advance(plan, state, world, now) -> (state, actions)``.

Pure: the rollout loop observes the cluster and Prometheus into a ``World``, calls ``advance``,
and applies the returned actions idempotently (every action states a desired end, so applying it
twice, or after a restart, does no harm). Everything the machine needs to carry on after a restart
is in ``State``, which the loop keeps in the ChangeRollout's status.

Phases:
    Idle → (target template differs from stable) → gates
    gates: Blocked (an SLO's budget policy says freeze) | AwaitingApproval (policy or risk asks
           for an approval of this template) | WaitingForWindow (change calendar closed) |
           Paused (a person paused the rollout) → Progressing (canary at step 0)
    Progressing: each analysis Pass/Fail/no verdict; a step advances once its pause is over and
           its latest analysis passed; at the failure limit, or after holding too long without a
           verdict, or with canary pods not Ready past the progress deadline, or on abort →
           RolledBack (or, without automatic rollback, held for a person);
           after the last step (no freeze, not paused) → Promoting; a person's promote starts
           the next step at once (from the last one: promotes), promote --full every step
    Promoting: target resumed, rolls out natively; once fully available → Succeeded; on abort, a
           template changed mid-way, or no progress within the progress deadline → RolledBack,
           the target paused and its pods of the candidate scaled away for the stable ones
    RolledBack: the template is refused until it changes or `retry`; reverting the target to
           stable clears it.
Nothing promotes without a passing analysis at the last step (or an explicit promote command).
Outside Promoting, the target runs pods of its stable template only: whatever else appears in its
ReplicaSets (a hand `kubectl rollout resume`) is scaled away and said in an Event.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from slokeeper.rollout.analysis import Outcome
from slokeeper.rollout.canary_wait import ensure_canary as _canary
from slokeeper.rollout.canary_wait import now_ready, ready_event, show_pause, unready
from slokeeper.rollout.out_of_band import keep_stable_pods, undo
from slokeeper.rollout.states import (
    GATE_PHASES,
    REST_PHASES,
    Action,
    Command,
    DeleteCanary,
    Event,
    GateKind,
    NoDataAction,
    PauseTarget,
    Phase,
    Plan,
    Result,
    ResumeTarget,
    State,
    World,
)
from slokeeper.rollout.transitions import promote, rollback

_GATE_PHASE = {
    GateKind.FREEZE: Phase.BLOCKED,
    GateKind.DRILL: Phase.BLOCKED,
    GateKind.APPROVAL: Phase.AWAITING_APPROVAL,
    GateKind.CALENDAR: Phase.WAITING_FOR_WINDOW,
    GateKind.PAUSED: Phase.PAUSED,
}


def _start_or_wait(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """At the gates: start the canary when they are open, else wait in the gate's phase."""
    if world.gate.kind is not GateKind.OPEN:
        phase = _GATE_PHASE[world.gate.kind]
        waiting = replace(state, phase=phase, reason=phase.value, message=world.gate.message)
        events: tuple[Action, ...] = ()
        if state.phase is not phase:
            events = (Event(phase.value, world.gate.message, warning=phase is Phase.BLOCKED),)
        return waiting, (*_without_canary(world), *events)
    started = replace(
        state,
        phase=Phase.PROGRESSING,
        step=0,
        step_started=now,
        failures=0,
        inconclusive_since=None,
        reason="CanaryStarted",
        message=f"Canary of {state.candidate} at step 1 of {len(plan.weights)}.",
    )
    return started, (
        PauseTarget(),
        _canary(plan, started, world),
        Event("CanaryStarted", started.message),
    )


def _without_canary(world: World) -> tuple[Action, ...]:
    """Target paused and no canary: what every phase without a running canary asserts, so a
    restart between writing status and applying a rollback still ends with no canary."""
    return (DeleteCanary(), PauseTarget()) if world.canary_present else (PauseTarget(),)


def _without_candidate(state: State) -> State:
    """Back to Idle on the stable template, forgetting the abandoned change's progress."""
    return State(Phase.IDLE, stable=state.stable, refused=state.refused)


def _refuse(state: State, target: str, world: World) -> Result:
    """The target carries a template rolled back before: say so, and run nothing until retry."""
    message = f"Template {target} was rolled back before; retry runs it again."
    just_rolled_back = state.phase is Phase.ROLLED_BACK and state.reason != "TemplateRefused"
    if just_rolled_back or (state.reason == "TemplateRefused" and target in state.message):
        return state, _without_canary(world)
    refused = replace(state, phase=Phase.ROLLED_BACK, reason="TemplateRefused", message=message)
    return refused, (*_without_canary(world), Event("TemplateRefused", message, warning=True))


def _at_rest(plan: Plan, state: State, world: World, now: datetime) -> Result:
    target = world.target_template
    if target == state.stable:
        if state.phase is Phase.ROLLED_BACK:
            message = "The target is back on its stable template."
            cleared = State(
                Phase.IDLE,
                stable=state.stable,
                refused=state.refused,
                reason="RevertedToStable",
                message=message,
            )
            return cleared, (*_without_canary(world), Event("RevertedToStable", message))
        return state, _without_canary(world)
    if world.target_restarts_stable:
        message = (
            f"A restart of the stable template ({target} differs only in restartedAt): the pods "
            f"are replaced without a canary."
        )
        restarting = replace(state, candidate=target)
        return promote(restarting, "Restart", message, now)
    if target in state.refused:
        if world.command is not Command.RETRY:
            return _refuse(state, target, world)
        retried = replace(state, refused=tuple(r for r in state.refused if r != target))
        return _start_or_wait(plan, replace(retried, candidate=target), world, now)
    return _start_or_wait(plan, replace(state, candidate=target), world, now)


def _inconclusive(plan: Plan, state: State, world: World, now: datetime) -> Result:
    verdict = world.verdict
    assert verdict is not None
    action = {
        Outcome.PROMETHEUS_UNREACHABLE: plan.on_prometheus_unreachable,
        Outcome.NOT_ENOUGH_TRAFFIC: plan.on_not_enough_traffic,
        # A configuration error: no retry fixes it, and no timer should roll back a good canary
        # because of a typo. It waits for a person.
        Outcome.QUERY_INVALID: NoDataAction.WAIT_FOR_PERSON,
    }[verdict]
    message = f"No verdict ({verdict.value}): {world.verdict_message}"
    ready_for = (now - (state.ready_since or now)).total_seconds()
    quiet = verdict is Outcome.NOT_ENOUGH_TRAFFIC and ready_for < plan.evidence_seconds
    if action is NoDataAction.ROLLBACK and quiet:
        action = NoDataAction.HOLD  # no traffic yet may only mean not scraped yet
        message += (
            f" The canary has been Ready for {ready_for:.0f}s of the {plan.evidence_seconds:g}s"
            " analysis window: no traffic counts only after a whole window."
        )
    if action is NoDataAction.ROLLBACK:
        return rollback(state, verdict.value, message)
    since = state.inconclusive_since or now
    waited = (now - since).total_seconds()
    if action is NoDataAction.HOLD and waited >= plan.max_inconclusive_seconds:
        return rollback(state, "InconclusiveTooLong", f"{message}; held since {since:%H:%M:%S}.")
    until: datetime | None = None
    if action is NoDataAction.HOLD:
        until = since + timedelta(seconds=plan.max_inconclusive_seconds)
        message += (
            f" Held until {until:%H:%M:%S} UTC ({plan.max_inconclusive_seconds:g}s without a "
            f"verdict), then rolled back."
        )
    else:
        message += " Waits for a person, with no time limit: abort, promote, or fix the cause."
    held = replace(
        state, inconclusive_since=since, held_until=until, reason=verdict.value, message=message
    )
    events: tuple[Action, ...] = (
        () if state.reason == verdict.value else (Event(verdict.value, message, warning=True),)
    )
    return held, (PauseTarget(), _canary(plan, held, world), *events)


def _progressing(plan: Plan, state: State, world: World, now: datetime) -> Result:
    if world.command is Command.ABORT:
        return rollback(state, "Aborted", "Aborted by a person.")
    if world.target_template != state.candidate:
        # The target moved on mid-run: this canary is moot; the new template starts over.
        after, actions = _at_rest(plan, _without_candidate(state), world, now)
        notice = Event("Superseded", "A newer template replaced the canary.")
        return after, (DeleteCanary(), notice, *actions)
    if world.command in (Command.PROMOTE_STEP, Command.PROMOTE, Command.FORCE_PROMOTE):
        return _promote_by_hand(plan, state, world, now)
    if state.failures >= plan.failure_limit:
        # Held for a person (no automatic rollback): nothing a new verdict says moves it on.
        return state, (PauseTarget(), _canary(plan, state, world))
    if not world.canary_ready:
        waiting, actions = unready(plan, state, world, now)
        return show_pause(waiting, world), actions
    ready = now_ready(state, now)
    after, actions = _judge(plan, ready, world, now)
    return show_pause(after, world), (*ready_event(state, ready), *actions)


def _next_step_by_hand(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """A person skips this step's pause and analysis: the next step starts now. A pause holds
    it (a paused rollout advances nothing); a freeze does not, as it holds only the promotion.
    Failures counted so far stay counted: a canary held for a person after its failure limit is
    held again at the next step, so each step past failing analyses is a person's decision."""
    if world.gate.kind is GateKind.PAUSED:
        refused = Event("PromoteRefused", f"Not advanced: {world.gate.message}", warning=True)
        return state, (PauseTarget(), _canary(plan, state, world), refused)
    step = state.step + 1
    message = (
        f"Step {step + 1} of {len(plan.weights)}: {plan.weights[step]:g}%, "
        f"step {state.step + 1}'s pause and analysis skipped by a person."
    )
    advanced = replace(
        state,
        step=step,
        step_started=now,
        ready_since=None,
        unready_since=None,
        inconclusive_since=None,
        reason="StepPromotedByHand",
        message=message,
    )
    return advanced, (
        PauseTarget(),
        _canary(plan, advanced, world),
        Event("StepPromotedByHand", message),
    )


def _promote_by_hand(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """Skip the remaining steps (a promote of one step: the current one); a freeze or a pause
    still holds the promotion unless it is forced."""
    if world.command is Command.PROMOTE_STEP and state.step + 1 < len(plan.weights):
        return _next_step_by_hand(plan, state, world, now)
    if world.command is Command.FORCE_PROMOTE:
        return promote(
            state, "PromotedByHand", "Promotion forced by a person, past the gates.", now
        )
    if world.gate.kind in (GateKind.FREEZE, GateKind.PAUSED):
        refused = Event("PromoteRefused", f"Not promoted: {world.gate.message}", warning=True)
        return state, (PauseTarget(), _canary(plan, state, world), refused)
    return promote(state, "PromotedByHand", "Promotion requested by a person.", now)


def _judge(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """What this tick's analysis verdict (if any) means for the running canary."""
    verdict = world.verdict
    if verdict is None:
        return state, (PauseTarget(), _canary(plan, state, world))
    if verdict is Outcome.FAIL:
        return _on_failure(plan, state, world)
    if verdict is Outcome.PASS:
        return _on_pass(plan, state, world, now)
    return _inconclusive(plan, state, world, now)


def _on_failure(plan: Plan, state: State, world: World) -> Result:
    failures = state.failures + 1
    message = f"Analysis failed ({failures} of {plan.failure_limit}): {world.verdict_message}"
    if failures >= plan.failure_limit and plan.automatic_rollback:
        return rollback(replace(state, failures=failures), "AnalysisFailed", message)
    if failures >= plan.failure_limit:
        held = replace(
            state,
            failures=failures,
            reason="RollbackHeld",
            message=f"{message}; automatic rollback is off: abort to roll back.",
        )
        notice = Event("RollbackHeld", held.message, warning=True)
        return held, (PauseTarget(), _canary(plan, held, world), notice)
    failed = replace(
        state, failures=failures, inconclusive_since=None, reason="AnalysisFailed", message=message
    )
    notice = Event("AnalysisFailed", message, warning=True)
    return failed, (PauseTarget(), _canary(plan, failed, world), notice)


def _on_pass(plan: Plan, state: State, world: World, now: datetime) -> Result:
    passed = replace(
        state, inconclusive_since=None, reason="AnalysisPassed", message=world.verdict_message
    )
    assert state.step_started is not None
    if world.gate.kind is GateKind.PAUSED:
        held = replace(passed, reason="Paused", message=world.gate.message)
        return held, (PauseTarget(), _canary(plan, held, world))
    # The pause is time at the step's weight: it counts from when every canary pod of the step
    # is Ready, so pods slow to start do not shorten it (nor have a step judged on fewer pods).
    at_weight_since = state.ready_since or state.step_started
    if (now - at_weight_since).total_seconds() < plan.pauses_seconds[state.step]:
        return passed, (PauseTarget(), _canary(plan, passed, world))
    if state.step + 1 < len(plan.weights):
        advanced = replace(passed, step=state.step + 1, step_started=now, ready_since=None)
        message = (
            f"Step {advanced.step + 1} of {len(plan.weights)}: {plan.weights[advanced.step]:g}%."
        )
        return advanced, (
            PauseTarget(),
            _canary(plan, advanced, world),
            Event("StepAdvanced", message),
        )
    if world.gate.kind is GateKind.FREEZE:
        # A spent budget holds even a passing canary back from promotion.
        held = replace(passed, reason="Blocked", message=world.gate.message)
        return held, (PauseTarget(), _canary(plan, held, world))
    return promote(passed, "Promoting", "Every step passed; promoting.", now)


def _promoting(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """The target rolls the candidate out natively. Every way out but success puts the target
    back on its stable pods: an abort, a template changed mid-way, or a promotion that stopped
    making progress (pods that cannot be scheduled, pulled or started)."""
    if world.command is Command.ABORT:
        return rollback(state, "Aborted", "Promotion aborted by a person.")
    if world.target_template != state.candidate:
        after, actions = _at_rest(plan, _without_candidate(state), world, now)
        notice = Event("Superseded", "A newer template replaced the change during its promotion.")
        return after, (DeleteCanary(), notice, *actions)
    if world.target_rolled_out:
        done = State(
            Phase.SUCCEEDED,
            stable=state.candidate,
            refused=state.refused,
            reason="Promoted",
            message=f"{state.candidate} is the stable template.",
        )
        return done, (DeleteCanary(), PauseTarget(), Event("Promoted", done.message))
    stalled = _promotion_stalled(plan, state, world, now)
    if stalled:
        return rollback(state, "ProgressDeadlineExceeded", stalled)
    return state, (ResumeTarget(),)


def _promotion_stalled(plan: Plan, state: State, world: World, now: datetime) -> str:
    """Why the promotion is given up on, or "" while it still makes progress."""
    problem = world.target_problem or "no reason given by the pods"
    if world.target_stalled:
        return (
            f"The Deployment gave up promoting {state.candidate} (ProgressDeadlineExceeded): "
            f"{problem}"
        )
    marks = [t for t in (state.promotion_started, world.target_progressed_at) if t is not None]
    since = max(marks, default=now)
    if (now - since).total_seconds() < plan.progress_deadline_seconds:
        return ""
    return (
        f"The promotion of {state.candidate} made no progress within the progress deadline of "
        f"{plan.progress_deadline_seconds:g}s: {problem}"
    )


def _at_gates(plan: Plan, state: State, world: World, now: datetime) -> Result:
    if world.command is Command.ABORT:
        return rollback(state, "Aborted", "Aborted by a person before it started.")
    if world.target_template != state.candidate:
        # Reverted, refused or changed again while waiting: judge the target afresh.
        return _at_rest(plan, _without_candidate(state), world, now)
    if world.command is Command.FORCE_PROMOTE:
        return promote(
            state, "PromotedByHand", "Promotion forced by a person, past the gates.", now
        )
    return _start_or_wait(plan, state, world, now)


def advance(plan: Plan, state: State, world: World, now: datetime) -> Result:
    """The next state and the actions that take the cluster there."""
    if state.stable is None:
        # The template the pods run: a paused target may hold a change nobody verified.
        running = world.target_running_template or world.target_template
        adopted = State(
            Phase.IDLE,
            stable=running,
            reason="Adopted",
            message=f"Adopted {running} as the stable template.",
        )
        return adopted, (PauseTarget(), Event("Adopted", adopted.message))
    undone = undo(state, world, now)
    after, actions = undone if undone is not None else _decide(plan, state, world, now)
    if after.inconclusive_since is None and after.held_until is not None:
        after = replace(after, held_until=None)  # a verdict, or a new step: no longer held
    return keep_stable_pods(state, (after, actions), world)


def _decide(plan: Plan, state: State, world: World, now: datetime) -> Result:
    if state.phase in REST_PHASES:
        return _at_rest(plan, state, world, now)
    if state.phase in GATE_PHASES:
        return _at_gates(plan, state, world, now)
    if state.phase is Phase.PROGRESSING:
        return _progressing(plan, state, world, now)
    return _promoting(plan, state, world, now)
