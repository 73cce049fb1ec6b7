"""What people do to a guarded Deployment outside its rollout, and what the state machine makes of
it: pods a hand resume started, a canary edited by hand, and `slokeeper rollout undo`."""

from __future__ import annotations

from datetime import datetime

from slokeeper.rollout.states import (
    Action,
    Command,
    DeleteCanary,
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
    notices: list[Action] = []
    if world.canary_foreign is not None and after.phase is Phase.PROGRESSING:
        notices.append(
            Event(
                "OutOfBandChange",
                f"The canary Deployment was changed by hand to template {world.canary_foreign}; "
                f"it runs the candidate {after.candidate} again.",
                warning=True,
            )
        )
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
