"""The rollout scheduler's tick: an API conflict starts the tick again on a fresh read; any
other failure is logged (once a minute per cause) and retried later, never raised into the
operator."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from slokeeper.handlers.log_throttle import ThrottledLog
from slokeeper.handlers.rollout_scheduler import ERROR_RETRY_SECONDS, RolloutScheduler
from slokeeper.loops.rollout.loop import RolloutLoop, TickResult
from slokeeper.rollout.states import Phase


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


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_api_outage_logs_one_short_line_a_minute_per_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = urllib3.exceptions.MaxRetryError(
        urllib3.HTTPConnectionPool("10.96.0.1", 443),
        "/apis/slokeeper.dev/v1alpha1/namespaces/shop/changerollouts/checkout",
        urllib3.exceptions.NewConnectionError(
            cast(Any, None), "Failed to establish a new connection: [Errno 111] Connection refused"
        ),
    )
    clock = FakeClock()
    scheduler = _scheduler(FlakyLoop(conflicts=0, error=refused))
    scheduler.failures = ThrottledLog(logging.getLogger("test.rollouts"), clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.rollouts"):
        for _ in range(9):  # 80 s of ticks every 10 s, for two rollouts
            for rollout in ("checkout", "payments"):
                assert scheduler._tick(("shop", rollout)) == ERROR_RETRY_SECONDS
            clock.now += 10
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "rollout shop/checkout: the API server did not answer: Connection refused; "
        "repeats are logged once a minute",
        "rollout shop/checkout: the API server did not answer: Connection refused "
        "(11 more since 60s ago); repeats are logged once a minute",
    ], lines
    assert not any(record.exc_info for record in caplog.records), "no traceback"


def test_a_bug_keeps_its_traceback_the_first_time(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = _scheduler(FlakyLoop(conflicts=0, error=RuntimeError("bug")))
    with caplog.at_level(logging.WARNING, logger="slokeeper.rollouts"):
        scheduler._tick(("shop", "checkout"))
        scheduler._tick(("shop", "checkout"))
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info
    assert "tick failed: RuntimeError: bug" in caplog.records[0].getMessage()
