"""Rollback drills: rehearse a rollback in production conditions, with nothing new shipped.

A drill starts a canary of the *stable* template (at the first step's weight), and once it is
Ready rolls it back with the same actions a failed analysis leads to (the canary deleted, the
target left on its stable pods), then measures the time to restore: from the rollback decision
to the canary gone and every stable replica available. A template change interrupts a drill:
the real change takes over the canary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from slokeeper.rollout.states import Action, DeleteCanary, EnsureCanary, Event

DEADLINE_SECONDS = 300.0


class DrillStage(StrEnum):
    STARTING = "Starting"  # the canary of the stable template is asked for; waiting for Ready
    ROLLING_BACK = "RollingBack"  # rolled back; waiting for the canary to go, stable available
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"


RUNNING = (DrillStage.STARTING, DrillStage.ROLLING_BACK)


@dataclass(frozen=True)
class Drill:
    stage: DrillStage
    started: datetime
    rolled_back: datetime | None = None
    restored: datetime | None = None
    message: str = ""

    @property
    def time_to_restore_seconds(self) -> float | None:
        if self.rolled_back is None or self.restored is None:
            return None
        # To the millisecond, as status records it: the message says the figure status shows.
        return round((self.restored - self.rolled_back).total_seconds(), 3)


@dataclass(frozen=True)
class DrillWorld:
    now: datetime
    canary: EnsureCanary  # the canary a drill runs: the stable template at the first weight
    canary_ready: bool  # a canary of that template has all its replicas Ready
    canary_present: bool
    target_available: bool
    target_on_stable: bool  # nobody changed the template meanwhile


def drill_step(drill: Drill, world: DrillWorld) -> tuple[Drill, tuple[Action, ...]]:
    """One tick of a drill: its next stage and what to do."""
    if drill.stage not in RUNNING:
        return drill, ()
    if not world.target_on_stable:
        message = "Interrupted: the template changed; the change takes over."
        return replace(drill, stage=DrillStage.INTERRUPTED, message=message), (
            Event("DrillInterrupted", message, warning=True),
        )
    if drill.stage is DrillStage.STARTING:
        return _starting(drill, world)
    return _rolling_back(drill, world)


def _starting(drill: Drill, world: DrillWorld) -> tuple[Drill, tuple[Action, ...]]:
    if world.canary_ready:
        message = "Drill canary Ready; rolling it back as a failed analysis would."
        rolled = replace(
            drill, stage=DrillStage.ROLLING_BACK, rolled_back=world.now, message=message
        )
        return rolled, (DeleteCanary(), Event("DrillRollback", message))
    if (world.now - drill.started).total_seconds() > DEADLINE_SECONDS:
        return _failed(drill, f"the drill canary was not Ready within {DEADLINE_SECONDS:.0f}s")
    return drill, (world.canary,)


def _rolling_back(drill: Drill, world: DrillWorld) -> tuple[Drill, tuple[Action, ...]]:
    if not world.canary_present and world.target_available:
        done = replace(drill, stage=DrillStage.SUCCEEDED, restored=world.now)
        done = replace(done, message=f"Restored in {done.time_to_restore_seconds:.1f}s.")
        return done, (Event("DrillSucceeded", f"Rollback drill: {done.message}"),)
    if (world.now - (drill.rolled_back or drill.started)).total_seconds() > DEADLINE_SECONDS:
        return _failed(drill, f"service was not restored within {DEADLINE_SECONDS:.0f}s")
    return drill, (DeleteCanary(),)


def _failed(drill: Drill, why: str) -> tuple[Drill, tuple[Action, ...]]:
    message = f"Drill failed: {why}."
    return replace(drill, stage=DrillStage.FAILED, message=message), (
        DeleteCanary(),
        Event("DrillFailed", message, warning=True),
    )


def last_success(drills: list[Drill]) -> datetime | None:
    return max((d.started for d in drills if d.stage is DrillStage.SUCCEEDED), default=None)
