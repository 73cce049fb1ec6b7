"""What people do to a guarded Deployment outside its rollout, and what the state machine makes of
it: pods a hand resume started, a canary edited, deleted or scaled by hand, and `slokeeper rollout
undo`."""

from __future__ import annotations

from datetime import datetime, timedelta

from slokeeper.rollout.states import (
    Action,
    Command,
    DeleteCanary,
    EnsureCanary,
    Event,
    Phase,
    RestoreStablePods,
    Result,
    ResumeTarget,
    State,
    World,
)
from slokeeper.rollout.transitions import rollback


def keep_stable_pods(before: State, result: Result, world: World) -> Result:
    """Outside a promotion the target runs its stable template's pods only: pods of another
    template in its own ReplicaSets (a hand resume, a promotion stopped half-way) are scaled
    away, and a canary edited by hand is replaced; what a person did is said in an Event."""
    after, actions = result
    notices: list[Action] = list(_canary_put_back(before, after, actions, world))
    if after.phase is Phase.PROMOTING or world.target_unverified_pods == 0 or not after.stable:
        return after, (*actions, *notices)
    notices.append(RestoreStablePods(after.stable))
    if before.phase is not Phase.PROMOTING:  # not the promotion's own pods: someone's doing
        last = world.target_changed_by or "none recorded"
        notices.append(
            Event(
                "OutOfBandChange",
                f"{world.target_unverified_pods} pod(s) of a template no analysis passed were "
                f"started in the target outside the rollout (resumed by hand: the API server's "
                f"audit log names who; the last other tool to change its spec: {last}); scaled "
                f"back to the stable template {after.stable}.",
                warning=True,
            )
        )
    return after, (*actions, *notices)


def _canary_put_back(
    before: State, after: State, actions: tuple[Action, ...], world: World
) -> tuple[Event, ...]:
    """The running step's canary as a person left it — edited, deleted or scaled by hand — and
    what this tick does about it (``actions`` put it back: the step's EnsureCanary)."""
    ensure = next((a for a in actions if isinstance(a, EnsureCanary)), None)
    running = before.phase is Phase.PROGRESSING and before.candidate == after.candidate
    if ensure is None or after.phase is not Phase.PROGRESSING or not running:
        return ()
    step = f"step {after.step + 1}"
    if world.canary_foreign is not None:
        said = (
            f"The canary Deployment was changed by hand to template {world.canary_foreign}; "
            f"it runs the candidate {after.candidate} again."
        )
    elif not world.canary_present and world.canary_ran:
        said = (
            f"The canary Deployment was deleted by hand during {step} (the API server's audit "
            f"log names who); recreated with {ensure.replicas} pod(s) of the candidate "
            f"{after.candidate}."
        )
    elif (
        world.canary_present
        and world.canary_scaled_by
        and world.canary_replicas != (ensure.replicas)
    ):
        said = (
            f"The canary Deployment was scaled to {world.canary_replicas} by hand "
            f"({world.canary_scaled_by}); {step} runs {ensure.replicas} canary pod(s): scaled "
            f"back to {ensure.replicas}."
        )
    else:
        return ()
    return (Event("OutOfBandChange", said, warning=True),)


# How long a tick waits for the request of an undo whose template it sees: the CLI writes it
# right after; one that never comes (the CLI killed between its writes) leaves a template change.
UNDO_REQUEST_WAIT = timedelta(seconds=30)


def undo_request_awaited(
    state: State,
    target_template: str,
    undone_at: datetime | None,
    undo_revision: str | None,
    now: datetime,
) -> bool:
    """`slokeeper rollout undo` set the target's template and its request, its second write, is
    not seen yet: nothing is decided until it is, so the undo is recorded as one (not as a
    template that replaced the change, nor as a new change to canary)."""
    expected = state.candidate or state.stable
    return (
        undone_at is not None
        and now - undone_at < UNDO_REQUEST_WAIT
        and target_template not in (undo_revision, expected)
    )


def undo(state: State, world: World, now: datetime) -> Result | None:
    """`slokeeper rollout undo` put the target back on a template that was stable here: rolled
    out at once, past every gate and canary (a rollback reduces risk), and the template undone
    is refused until retried. None: no undo to act on (another template, or not known-good —
    that one goes through the canary like any change)."""
    if world.command is not Command.UNDO or world.command_revision != world.target_template:
        return None
    target = world.target_template
    if target == state.stable:
        if state.candidate is None:
            return None  # already there
        message = f"Undone by a person: back to the stable template {target}."
        return rollback(state, "Undone", message)
    if not world.undo_known_good:
        return None
    undone = tuple(t for t in (state.stable, state.candidate) if t not in (None, target))
    refused = (*(r for r in state.refused if r != target), *undone)
    message = (
        f"Undone by a person: back to {target}, a template that was stable here, rolled out now "
        f"without a canary; {', '.join(undone) or 'nothing'} refused until retried."
    )
    undoing = State(
        Phase.PROMOTING,
        stable=state.stable,
        candidate=target,
        promotion_started=now,
        refused=tuple(dict.fromkeys(refused)),
        reason="Undo",
        message=message,
    )
    return undoing, (DeleteCanary(), ResumeTarget(), Event("Undo", message, warning=True))
