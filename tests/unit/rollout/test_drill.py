"""A rollback drill step by step: canary of the stable template, rolled back once Ready, time to
restore measured; interrupted by a real change; failed past its deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from slokeeper.rollout.drill import (
    DEADLINE_SECONDS,
    Drill,
    DrillStage,
    DrillWorld,
    drill_step,
)
from slokeeper.rollout.states import DeleteCanary, EnsureCanary, Event

T0 = datetime(2026, 11, 26, 2, tzinfo=UTC)
CANARY = EnsureCanary("stable-hash", 1)
WORLD = DrillWorld(
    now=T0,
    canary=CANARY,
    canary_ready=False,
    canary_present=False,
    target_available=True,
    target_on_stable=True,
)


def at(seconds: float, **changes: bool) -> DrillWorld:
    return replace(WORLD, now=T0 + timedelta(seconds=seconds), **changes)


def test_a_drill_runs_a_stable_canary_rolls_it_back_and_times_the_restore() -> None:
    drill = Drill(DrillStage.STARTING, T0)
    drill, actions = drill_step(drill, at(1))
    assert actions == (CANARY,)
    drill, actions = drill_step(drill, at(6, canary_present=True, canary_ready=True))
    assert drill.stage is DrillStage.ROLLING_BACK
    assert actions[0] == DeleteCanary()
    drill, actions = drill_step(drill, at(7, canary_present=True))
    assert actions == (DeleteCanary(),)
    drill, actions = drill_step(drill, at(8.5))
    assert drill.stage is DrillStage.SUCCEEDED
    assert drill.time_to_restore_seconds == 2.5
    assert isinstance(actions[0], Event)
    assert actions[0].message == "Rollback drill: Restored in 2.5s."


def test_the_message_says_the_time_to_restore_status_records() -> None:
    # 49.6 ms: status keeps 0.05 s (to the millisecond), and the message must not say 0.0 s.
    rolling = Drill(DrillStage.ROLLING_BACK, T0, rolled_back=T0 + timedelta(seconds=1))
    drill, _ = drill_step(rolling, at(1.0496))
    assert drill.time_to_restore_seconds == 0.05
    assert drill.message == f"Restored in {drill.time_to_restore_seconds:.1f}s."


def test_a_template_change_interrupts_it_and_leaves_the_canary_to_the_change() -> None:
    drill, actions = drill_step(Drill(DrillStage.STARTING, T0), at(3, target_on_stable=False))
    assert drill.stage is DrillStage.INTERRUPTED
    assert not any(isinstance(a, DeleteCanary | EnsureCanary) for a in actions)


def test_a_canary_that_never_gets_ready_fails_the_drill_and_is_removed() -> None:
    drill, actions = drill_step(Drill(DrillStage.STARTING, T0), at(DEADLINE_SECONDS + 1))
    assert drill.stage is DrillStage.FAILED
    assert DeleteCanary() in actions


def test_a_finished_drill_does_nothing() -> None:
    done = Drill(DrillStage.SUCCEEDED, T0, T0, T0)
    assert drill_step(done, at(1)) == (done, ())
