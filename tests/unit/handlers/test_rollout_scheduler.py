"""The rollout scheduler's tick: an API conflict starts the tick again on a fresh read; any
other failure is logged and retried later, never raised into the operator."""

from __future__ import annotations

from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from slokeeper.handlers.rollout_scheduler import ERROR_RETRY_SECONDS, RolloutScheduler
from slokeeper.loops.rollout.loop import RolloutLoop, TickResult
from slokeeper.rollout.state_machine import Phase


class FlakyLoop:
    """Answers the first ``conflicts`` ticks with 409 Conflict, then succeeds."""

    def __init__(self, conflicts: int, error: Exception | None = None) -> None:
        self.conflicts, self.error, self.ticks = conflicts, error, 0

    def tick(self, namespace: str, name: str) -> TickResult:
        self.ticks += 1
        if self.ticks <= self.conflicts:
            raise ApiException(status=409, reason="Conflict")
        if self.error is not None:
            raise self.error
        return TickResult(Phase.PROGRESSING, 30.0)


def _scheduler(loop: FlakyLoop) -> RolloutScheduler:
    return RolloutScheduler(cast(RolloutLoop, cast(Any, loop)))


def test_a_conflict_is_retried_on_a_fresh_read() -> None:
    loop = FlakyLoop(conflicts=2)
    assert _scheduler(loop)._tick(("shop", "checkout")) == 30.0
    assert loop.ticks == 3


def test_other_failures_wait_and_retry_instead_of_crashing() -> None:
    loop = FlakyLoop(conflicts=0, error=ApiException(status=500, reason="etcd timeout"))
    assert _scheduler(loop)._tick(("shop", "checkout")) == ERROR_RETRY_SECONDS
    broken = FlakyLoop(conflicts=0, error=RuntimeError("bug"))
    assert _scheduler(broken)._tick(("shop", "checkout")) == ERROR_RETRY_SECONDS
