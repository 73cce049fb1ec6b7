"""Transitions more than one part of the rollout state machine takes: a rollback and the start of
a promotion."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from slokeeper.rollout.states import (
    DeleteCanary,
    Event,
    PauseTarget,
    Phase,
    Result,
    ResumeTarget,
    State,
)


def rollback(state: State, reason: str, message: str, refuse: bool = True) -> Result:
    refused = state.refused
    if refuse and state.candidate is not None and state.candidate not in refused:
        refused = (*refused, state.candidate)
    rolled_back = State(
        Phase.ROLLED_BACK, stable=state.stable, refused=refused, reason=reason, message=message
    )
    return rolled_back, (DeleteCanary(), PauseTarget(), Event(reason, message, warning=True))


def promote(state: State, reason: str, message: str, now: datetime) -> Result:
    promoting = replace(
        state, phase=Phase.PROMOTING, reason=reason, message=message, promotion_started=now
    )
    return promoting, (ResumeTarget(), Event(reason, message))
