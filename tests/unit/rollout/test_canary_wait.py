"""What a step says while its canary waits for Ready pods, a pause mid-step, and a hold's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slokeeper.rollout.analysis import Outcome
from slokeeper.rollout.canary_wait import notice_seconds
from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import (
    EnsureCanary,
    Event,
    Gate,
    GateKind,
    NoDataAction,
    Phase,
    Plan,
    State,
    World,
)

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
PLAN = Plan(weights=(5, 25), pauses_seconds=(60, 60), progress_deadline_seconds=600)
STABLE = State(Phase.IDLE, stable="v1")
PROBLEM = "pod checkout-canary-x Unschedulable: 0/1 nodes are available"


def _world(**changes: object) -> World:
    return World(**{"target_template": "v2", "stable_replicas": 20, **changes})  # type: ignore[arg-type]


def _events(actions: tuple[object, ...]) -> list[Event]:
    return [a for a in actions if isinstance(a, Event)]


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_canary_not_ready_past_the_notice_says_what_its_pods_say_and_the_time_left() -> None:
    state, _ = advance(PLAN, STABLE, _world(), T0)
    stuck = _world(canary_present=True, canary_ready=False, canary_problem=PROBLEM)
    state, actions = advance(PLAN, state, stuck, _at(5))
    assert (state.reason, _events(actions)) == ("CanaryStarted", []), "a pod starting is no news"
    assert notice_seconds(PLAN) == 15

    state, actions = advance(PLAN, state, stuck, _at(20))
    assert (state.phase, state.reason) == (Phase.PROGRESSING, "CanaryNotReady")
    assert PROBLEM in state.message
    assert "585s left of the 600s progress deadline" in state.message
    assert "rolled back at 12:10:05 UTC" in state.message
    [notice] = _events(actions)
    assert (notice.reason, notice.message, notice.warning) == (
        "CanaryNotReady",
        state.message,
        True,
    )
    assert EnsureCanary("v2", 1) in actions

    state, actions = advance(PLAN, state, stuck, _at(40))
    assert (state.reason, _events(actions)) == ("CanaryNotReady", []), "said once, not per tick"
    newer = _world(canary_present=True, canary_ready=False, canary_problem="pod x ErrImagePull")
    state, actions = advance(PLAN, state, newer, _at(60))
    assert "pod x ErrImagePull" in state.message
    assert "545s left" in state.message
    assert _events(actions) == [], "the status follows the pods; the Event was posted"

    state, actions = advance(PLAN, state, newer, _at(605))
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "ProgressDeadlineExceeded")
    assert "ErrImagePull" in state.message


def test_pods_ready_after_a_not_ready_notice_say_so_once() -> None:
    state, _ = advance(PLAN, STABLE, _world(), T0)
    stuck = _world(canary_present=True, canary_ready=False)
    state, _ = advance(PLAN, state, stuck, _at(5))
    state, _ = advance(PLAN, state, stuck, _at(30))
    assert state.reason == "CanaryNotReady"
    assert "the pods do not say why yet" in state.message
    state, actions = advance(PLAN, state, _world(canary_present=True), _at(35))
    assert (state.reason, state.unready_since, state.ready_since) == ("CanaryReady", None, _at(35))
    assert [e.reason for e in _events(actions)] == ["CanaryReady"]
    state, actions = advance(PLAN, state, _world(canary_present=True), _at(40))
    assert _events(actions) == []


def test_a_short_deadline_gives_a_short_notice() -> None:
    assert notice_seconds(Plan(progress_deadline_seconds=20)) == 5


def test_a_pause_mid_step_shows_at_once_and_its_end_too() -> None:
    state, _ = advance(PLAN, STABLE, _world(), T0)
    paused = Gate(GateKind.PAUSED, "Paused by alice: looking at a graph.")
    state, _actions = advance(PLAN, state, _world(canary_present=True, gate=paused), _at(5))
    assert (state.phase, state.reason) == (Phase.PROGRESSING, "Paused")
    assert state.message == "Paused by alice: looking at a graph."
    state, _ = advance(PLAN, state, _world(canary_present=True, gate=paused), _at(10))
    assert state.reason == "Paused"
    state, _ = advance(PLAN, state, _world(canary_present=True), _at(15))
    assert (state.reason, state.message) == ("Resumed", "The pause was lifted: step 1 goes on.")


def test_a_pause_does_not_hide_a_problem() -> None:
    state, _ = advance(PLAN, STABLE, _world(), T0)
    paused = Gate(GateKind.PAUSED, "Paused by alice.")
    state, _ = advance(PLAN, state, _world(gate=paused, verdict=Outcome.FAIL), _at(5))
    assert state.reason == "AnalysisFailed"
    stuck = _world(canary_present=True, canary_ready=False, gate=paused)
    state, _ = advance(PLAN, state, stuck, _at(6))
    state, _ = advance(PLAN, state, stuck, _at(30))
    assert state.reason == "CanaryNotReady"


def test_a_hold_records_when_it_ends_and_waiting_for_a_person_does_not() -> None:
    hold = Plan(on_prometheus_unreachable=NoDataAction.HOLD, max_inconclusive_seconds=600)
    state, _ = advance(hold, STABLE, _world(), T0)
    state, _ = advance(hold, state, _world(verdict=Outcome.PROMETHEUS_UNREACHABLE), _at(5))
    assert (state.inconclusive_since, state.held_until) == (_at(5), _at(605))
    state, _ = advance(hold, state, _world(verdict=Outcome.PROMETHEUS_UNREACHABLE), _at(65))
    assert state.held_until == _at(605), "the hold's end does not move"
    state, _ = advance(hold, state, _world(verdict=Outcome.PASS), _at(70))
    assert (state.inconclusive_since, state.held_until) == (None, None)

    waits = Plan(on_prometheus_unreachable=NoDataAction.WAIT_FOR_PERSON)
    state, _ = advance(waits, STABLE, _world(), T0)
    state, _ = advance(waits, state, _world(verdict=Outcome.PROMETHEUS_UNREACHABLE), _at(5))
    assert (state.inconclusive_since, state.held_until) == (_at(5), None)
