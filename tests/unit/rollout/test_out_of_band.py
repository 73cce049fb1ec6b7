"""A running step's canary deleted or scaled by hand: put back, and said as an OutOfBandChange."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import Command, EnsureCanary, Event, Phase, Plan, State, World

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
PLAN = Plan(weights=(25, 50), pauses_seconds=(60, 60))
STABLE = State(Phase.IDLE, stable="v1")


def _world(**changes: object) -> World:
    seen = {"target_template": "v2", "stable_replicas": 4, "canary_present": True}
    return World(**{**seen, "canary_replicas": 1, "canary_ran": True, **changes})  # type: ignore[arg-type]


def _out_of_band(actions: tuple[object, ...]) -> list[str]:
    return [a.message for a in actions if isinstance(a, Event) and a.reason == "OutOfBandChange"]


def _running() -> State:
    state, _ = advance(PLAN, STABLE, _world(canary_present=False, canary_ran=False), T0)
    assert state.phase is Phase.PROGRESSING
    return state


def test_a_canary_deleted_by_hand_is_recreated_and_said() -> None:
    deleted = _world(canary_present=False, canary_ready=False, canary_replicas=0)
    state, actions = advance(PLAN, _running(), deleted, T0 + timedelta(seconds=5))
    assert state.phase is Phase.PROGRESSING
    assert EnsureCanary("v2", 1) in actions
    [said] = _out_of_band(actions)
    assert "deleted by hand during step 1" in said
    assert "audit log" in said
    assert "recreated with 1 pod(s) of the candidate v2" in said
    [ensure] = [a for a in actions if isinstance(a, EnsureCanary)]
    assert ensure.seen_replicas is None, "seen gone: created"


def test_a_canary_not_created_yet_is_no_hand_change() -> None:
    """The operator stopped between writing CanaryStarted and creating the canary: no one
    deleted anything, and nothing says so."""
    never = _world(canary_present=False, canary_ready=False, canary_ran=False, canary_replicas=0)
    _state, actions = advance(PLAN, _running(), never, T0 + timedelta(seconds=5))
    assert EnsureCanary("v2", 1) in actions
    assert _out_of_band(actions) == []


def test_a_canary_scaled_by_hand_is_scaled_back_and_said_with_who() -> None:
    scaled = _world(canary_replicas=4, canary_scaled_by="kubectl-scale at 2026-11-25T12:00:03Z")
    _state, actions = advance(PLAN, _running(), scaled, T0 + timedelta(seconds=5))
    assert EnsureCanary("v2", 1) in actions
    [said] = _out_of_band(actions)
    assert "scaled to 4 by hand (kubectl-scale at 2026-11-25T12:00:03Z)" in said
    assert "step 1 runs 1 canary pod(s): scaled back to 1" in said
    [ensure] = [a for a in actions if isinstance(a, EnsureCanary)]
    assert ensure.seen_replicas == 4, "the adapter undoes only what this tick saw and said"


def test_a_canary_resized_by_the_operator_is_no_hand_change() -> None:
    """The target grew (an HPA), so the step's canary grows: slokeeper set the replicas it has,
    and a step that asks for more is no one's hand change."""
    grown = _world(stable_replicas=12, canary_replicas=1)
    state, actions = advance(PLAN, _running(), grown, T0 + timedelta(seconds=5))
    assert EnsureCanary("v2", 4) in actions
    assert _out_of_band(actions) == []
    at_size = _world(canary_replicas=1, canary_scaled_by="kubectl-scale at 2026-11-25T12:00:03Z")
    state, actions = advance(PLAN, state, at_size, T0 + timedelta(seconds=6))
    assert _out_of_band(actions) == [], "scaled by hand to the size the step runs: nothing to undo"


def test_a_hand_deleted_canary_of_a_rolled_back_change_is_not_recreated() -> None:
    aborted = _world(
        canary_present=False, canary_ready=False, canary_replicas=0, command=Command.ABORT
    )
    state, actions = advance(PLAN, _running(), aborted, T0 + timedelta(seconds=5))
    assert state.phase is Phase.ROLLED_BACK
    assert not [a for a in actions if isinstance(a, EnsureCanary)]
    assert _out_of_band(actions) == []
