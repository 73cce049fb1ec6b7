"""The rollout scheduler: ticks of different rollouts run at once in a bounded pool, so one
rollout's slow call holds no other; one rollout's ticks never overlap, and one woken during its tick
is ticked again right after. A tick: an API conflict starts it again on a fresh read; any other
failure is logged (once a minute per cause) and retried later, never raised into the operator.
Liveness hears of a tick that never ends, and of due rollouts no tick reaches."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from typing import Any, cast

import kopf
import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from polling import eventually
from slokeeper.handlers.health import STALLED_AFTER_SECONDS
from slokeeper.handlers.log_throttle import ThrottledLog
from slokeeper.handlers.rollout_scheduler import ERROR_RETRY_SECONDS, RolloutScheduler
from slokeeper.loops.rollout.loop import RolloutLoop, TickResult
from slokeeper.rollout.states import Phase


class FlakyLoop:
    """Answers the first ``conflicts`` ticks with 409 Conflict, then succeeds."""

    def __init__(self, conflicts: int, error: Exception | None = None) -> None:
        self.conflicts, self.error, self.ticks = conflicts, error, 0
        self.failed_safe: list[tuple[str, str, str]] = []

    def fail_safe(self, namespace: str, name: str, error: str) -> None:
        self.failed_safe.append((namespace, name, error))

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
    delay, result = _scheduler(loop)._tick(("shop", "checkout"))
    assert (delay, result) == (30.0, TickResult(Phase.PROGRESSING, 30.0))
    assert loop.ticks == 3


def test_other_failures_wait_and_retry_instead_of_crashing() -> None:
    loop = FlakyLoop(conflicts=0, error=ApiException(status=500, reason="etcd timeout"))
    assert _scheduler(loop)._tick(("shop", "checkout")) == (ERROR_RETRY_SECONDS, None)
    assert not loop.failed_safe, "an API error is retried, the canary kept"
    broken = FlakyLoop(conflicts=0, error=RuntimeError("bug"))
    assert _scheduler(broken)._tick(("shop", "checkout")) == (ERROR_RETRY_SECONDS, None)
    # A tick that cannot decide takes the canary out of service, saying why.
    assert broken.failed_safe == [("shop", "checkout", "tick failed: RuntimeError: bug")]


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
                assert scheduler._tick(("shop", rollout)) == (ERROR_RETRY_SECONDS, None)
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


class BlockingLoop:
    """Ticks every rollout at once, asking again in 0.05 s, except those in ``blocked``: their
    tick waits until released, then asks again in a minute. Counts ticks, overlaps of one
    rollout's ticks, and the most ticks running at once."""

    def __init__(self, *blocked: str) -> None:
        self.release = {name: threading.Event() for name in blocked}
        self.ticks: Counter[str] = Counter()
        self.ended: Counter[str] = Counter()
        self._running: Counter[str] = Counter()
        self.overlaps = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def tick(self, namespace: str, name: str) -> TickResult:
        with self._lock:
            self.ticks[name] += 1
            self._running[name] += 1
            self.overlaps += self._running[name] > 1
            self.most_at_once = max(self.most_at_once, sum(self._running.values()))
        try:
            if name in self.release:
                assert self.release[name].wait(20), "never released"
        finally:
            with self._lock:
                self._running[name] -= 1
                self.ended[name] += 1
        return TickResult(Phase.PROGRESSING, 60.0 if name in self.release else 0.05)


class RunningScheduler:
    """``scheduler.run`` on an event loop of its own thread, for the test to watch from outside."""

    def __init__(self, scheduler: RolloutScheduler, *rollouts: str) -> None:
        self.scheduler = scheduler
        # kopf's index of rollouts by target: one target per rollout here.
        self.index = {("shop", f"{name}-target"): [name] for name in rollouts}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningScheduler:
        self.thread.start()
        index = cast(kopf.Index[tuple[str, str], str], self.index)
        self.task = asyncio.run_coroutine_threadsafe(self.scheduler.run(index), self.loop)
        return self

    def wake(self, name: str) -> None:
        self.loop.call_soon_threadsafe(self.scheduler.wake, ("shop", name))

    def __exit__(self, *_: object) -> None:
        self.task.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_a_blocked_tick_holds_no_other_rollout_and_never_overlaps_itself() -> None:
    fake = BlockingLoop("slow")
    with RunningScheduler(_scheduler(cast(Any, fake)), "slow", "fast", "other") as running:
        eventually(lambda: fake.ticks["slow"], lambda n: n == 1, "the slow tick to start", 5, 0.01)
        for _ in range(5):
            running.wake("slow")
        seen = eventually(
            lambda: (fake.ticks["fast"], fake.ticks["other"]),
            lambda ticks: min(ticks) >= 5,
            "the other rollouts ticking while the slow one is held",
            timeout=5,
            interval=0.01,
        )
        assert fake.ticks["slow"] == 1, "a rollout's second tick waits for its first"
        fake.release["slow"].set()
        eventually(
            lambda: fake.ended["slow"],
            lambda n: n >= 2,
            "the slow rollout, woken during its tick, ticked again right after (not in 60 s)",
            timeout=2,
            interval=0.01,
        )
    assert fake.overlaps == 0
    assert seen[0] >= 5


def test_no_more_ticks_run_at_once_than_the_pool_allows() -> None:
    fake = BlockingLoop("a", "b", "c", "d")
    scheduler = _scheduler(cast(Any, fake))
    scheduler.concurrency = 2
    with RunningScheduler(scheduler, "a", "b", "c", "d"):
        eventually(lambda: sum(fake.ticks.values()), lambda n: n >= 2, "two ticks", 5, 0.01)
        # Ticks are started in one pass of the scheduler: all four would be running by now.
        assert sorted(scheduler.running) == [("shop", "a"), ("shop", "b")]
        for release in fake.release.values():
            release.set()
        eventually(
            lambda: fake.ended, lambda ended: min(ended[n] for n in "abcd") >= 1, "all four", 5
        )
    assert fake.most_at_once == 2


def test_liveness_hears_of_a_tick_that_never_ends_and_of_due_rollouts_left_waiting() -> None:
    clock = FakeClock()
    scheduler = _scheduler(FlakyLoop(conflicts=0))
    scheduler.clock = clock
    assert scheduler.stalled() is None
    scheduler.running[("shop", "checkout")] = clock.now
    scheduler.progressed_at = clock.now
    clock.now += STALLED_AFTER_SECONDS
    assert scheduler.stalled() is None
    clock.now += 12
    message = scheduler.stalled()
    assert message is not None
    assert message.startswith("rollout scheduler: the tick of shop/checkout has been running since")
    assert message.endswith(", 312s ago")

    del scheduler.running[("shop", "checkout")]
    scheduler.progressed_at = clock.now
    scheduler.due = {("shop", "payments"): clock.now - 1, ("shop", "search"): clock.now + 30}
    clock.now += STALLED_AFTER_SECONDS
    assert scheduler.stalled() is None, "due for 5 min, but a tick started or ended just now"
    clock.now += 5
    message = scheduler.stalled()
    assert message is not None
    assert message.startswith("rollout scheduler: 2 rollout(s) due, yet no tick started or ended")
    scheduler.progressed_at = clock.now  # a tick ends: progress again
    assert scheduler.stalled() is None


def test_a_relist_of_unchanged_objects_wakes_no_rollout() -> None:
    """kopf lists every object again when it restarts a quiet watch: only news wakes a tick."""
    scheduler = _scheduler(FlakyLoop(0))
    index = cast(kopf.Index[tuple[str, str], str], {("shop", "checkout"): ["checkout"]})
    scheduler.wake_for_deployment(index, "shop", "checkout", ("41", None))
    assert scheduler.woken == {("shop", "checkout")}, "first sight of it: a tick"
    scheduler.woken.clear()
    scheduler.wake_for_deployment(index, "shop", "checkout", ("41", None))
    scheduler.wake_for_deployment(index, "shop", "checkout-canary", ("7", None))
    assert scheduler.woken == {("shop", "checkout")}, "the canary is new"
    scheduler.woken.clear()
    scheduler.wake_for_deployment(index, "shop", "checkout", ("41", None))
    assert not scheduler.woken, "the same version replayed"
    scheduler.wake_for_deployment(index, "shop", "checkout", ("42", "MODIFIED"))
    assert scheduler.woken == {("shop", "checkout")}
    scheduler.woken.clear()
    scheduler.wake_for_deployment(index, "shop", "checkout-canary", ("7", "DELETED"))
    assert scheduler.woken == {("shop", "checkout")}
    scheduler.woken.clear()
    scheduler.wake_for_deployment(index, "shop", "unguarded", ("1", "MODIFIED"))
    assert not scheduler.woken
    assert ("Deployment", "shop", "unguarded") not in scheduler.versions, "only guarded ones kept"
