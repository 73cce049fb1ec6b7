"""The SLO loop's task marks its progress after each cycle, so liveness fails when a cycle is
stuck in a call although the event loop still beats, and not while cycles keep finishing; an SLO
applied while it sleeps between cycles is taken up within seconds."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime
from typing import Any, cast

import pytest
import urllib3

from slokeeper.handlers import background
from slokeeper.handlers.background import cycle_stalled_after, run_slo_loop
from slokeeper.handlers.health import OperatorHealth
from slokeeper.handlers.log_throttle import ThrottledLog
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.loops.slo.loop import CycleReport, SLOLoop
from slokeeper.prometheus.client import PrometheusClient


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowCycles:
    """Each cycle "takes" 200 s of the fake clock; from the third on, a cycle hangs until
    released, as one stuck in a call would."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.cycles = clock, 0
        self.release = threading.Event()

    def cycle(self, records: Any, now: datetime) -> CycleReport:
        self.cycles += 1
        if self.cycles >= 3:
            self.release.wait(20)
        self.clock.now += 200
        return CycleReport(slos=1)


async def _until(condition: Any, what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_liveness_follows_the_slo_loop_cycles() -> None:
    interval = 0.01
    clock = FakeClock()
    health = OperatorHealth(clock)
    health.started.set()
    progress = health.progress("SLO loop", "evaluation cycle", cycle_stalled_after(interval))
    slo_loop = SlowCycles(clock)

    async def scenario() -> list[tuple[bool, str]]:
        task = asyncio.create_task(
            run_slo_loop(
                cast(SLOLoop, slo_loop),
                cast(Any, {}),
                cast(Any, {}),
                interval=interval,
                metrics=OperatorMetrics(),
                prometheus=cast(PrometheusClient, type("P", (), {"queries": 0})()),
                progress=progress,
            )
        )
        await _until(lambda: slo_loop.cycles >= 3, "the third cycle")
        health.beat()
        # Two cycles of 200 s each, past the first allowance from the start: alive because each
        # finished cycle moved the allowance on.
        finished = health.liveness()
        clock.now += cycle_stalled_after(interval) + 1  # the third cycle hangs meanwhile
        health.beat()
        stuck = health.liveness()
        slo_loop.release.set()
        task.cancel()
        return [finished, stuck]

    finished, stuck = asyncio.run(scenario())
    assert finished == (True, "ok")
    assert stuck[0] is False
    assert stuck[1].startswith("SLO loop: no evaluation cycle has finished since "), stuck


class DownAPIServer:
    """Every cycle fails as one does while the API server is down."""

    def __init__(self) -> None:
        self.cycles = 0

    def cycle(self, records: Any, now: datetime) -> CycleReport:
        self.cycles += 1
        raise urllib3.exceptions.MaxRetryError(
            cast(Any, None), "/apis/slokeeper.dev/v1alpha1/servicelevelobjectives", None
        )


def test_an_api_server_outage_is_logged_once_a_minute_not_per_cycle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    slo_loop = DownAPIServer()
    progress = OperatorHealth(clock).progress("SLO loop", "evaluation cycle", 60)

    async def scenario() -> None:
        task = asyncio.create_task(
            run_slo_loop(
                cast(SLOLoop, slo_loop),
                cast(Any, {}),
                cast(Any, {}),
                interval=0.001,
                metrics=OperatorMetrics(),
                prometheus=cast(PrometheusClient, type("P", (), {"queries": 0})()),
                progress=progress,
                failures=ThrottledLog(logging.getLogger("slokeeper"), clock=clock),
            )
        )
        await _until(lambda: slo_loop.cycles >= 20, "twenty failed cycles")
        task.cancel()

    with caplog.at_level(logging.WARNING, logger="slokeeper"):
        asyncio.run(scenario())
    said = [r for r in caplog.records if "SLO evaluation cycle failed" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert not said[0].exc_info  # no traceback for an outage
    assert "no answer" in said[0].getMessage(), said[0].getMessage()


class NewWork:
    """An SLO loop that sees new work once ``arrived`` is set."""

    def __init__(self) -> None:
        self.arrived = False
        self.looked = 0

    def has_new_work(self, records: Any) -> bool:
        self.looked += 1
        return self.arrived


def test_an_slo_applied_while_the_loop_sleeps_is_taken_up_within_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "NEW_WORK_GAP_SECONDS", 0.02)
    monkeypatch.setattr(background, "NEW_WORK_POLL_SECONDS", 0.01)
    slo_loop = NewWork()

    async def scenario() -> tuple[bool, float]:
        sleeping = asyncio.create_task(
            background.until_next_cycle(cast(SLOLoop, slo_loop), cast(Any, {"ns": []}), 30.0)
        )
        await asyncio.sleep(0.2)
        still_asleep = not sleeping.done()
        slo_loop.arrived = True
        began = time.monotonic()
        await asyncio.wait_for(sleeping, timeout=5)
        return still_asleep, time.monotonic() - began

    still_asleep, woke_after = asyncio.run(scenario())
    assert still_asleep, "the loop woke with nothing new to do"
    assert slo_loop.looked > 1
    assert woke_after < 1, woke_after
