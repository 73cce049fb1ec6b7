"""The operator's long-running tasks besides the rollout scheduler: the SLO evaluation loop (one
task for every SLO, reading kopf's indexes each interval, marking its ``Progress`` after each
cycle so liveness sees a cycle that never ends) and the health heartbeat. Started by
``Runtime.start`` from the kopf startup handler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import kopf
import urllib3
from kubernetes.client.exceptions import ApiException

from slokeeper.handlers.health import (
    HEARTBEAT_SECONDS,
    STALLED_AFTER_SECONDS,
    OperatorHealth,
    Progress,
)
from slokeeper.handlers.log_throttle import ThrottledLog
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.loops.slo.loop import SLOLoop, next_delay
from slokeeper.loops.slo.maintenance import with_shared_windows
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.transport.no_answer import no_answer_reason

log = logging.getLogger("slokeeper")

# How often a sleeping SLO loop looks for new SLOs, and how soon after a cycle it may start the
# next for them.
NEW_WORK_POLL_SECONDS = 1.0
NEW_WORK_GAP_SECONDS = 2.0


def cycle_stalled_after(interval: float) -> float:
    """How long a cycle may run before liveness calls the SLO loop stuck: several intervals,
    and never less than the other loops are given."""
    return max(STALLED_AFTER_SECONDS, 3 * interval)


async def run_slo_loop(
    loop: SLOLoop,
    index: kopf.Index[Any, Any],
    maintenance: kopf.Index[Any, Any],
    *,
    interval: float,
    metrics: OperatorMetrics,
    prometheus: PrometheusClient,
    progress: Progress,
    failures: ThrottledLog | None = None,
) -> None:
    """Evaluate every SLO each interval (sooner or later as ``next_delay`` says), forever; a
    cycle that fails is logged once a minute per cause (``failures``)."""
    failed_cycles = 0
    failures = failures or ThrottledLog(log)
    while True:
        records = [record for store in list(index.values()) for record in list(store)]
        shared = {namespace: list(store) for namespace, store in list(maintenance.items())}
        records = with_shared_windows(records, shared)
        delay = interval
        try:
            queries_before = prometheus.queries
            report = await asyncio.to_thread(loop.cycle, records, datetime.now(UTC))
            metrics.observe_cycle(report)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            # An outage: one line a minute, as the rollout ticks say theirs.
            cause = _outage(error)
            failures.failure(cause, f"SLO evaluation cycle failed: {cause}; retrying")
        except Exception as error:  # a bug: its traceback, the first time
            cause = f"SLO evaluation cycle failed: {type(error).__name__}: {error}"[:300]
            failures.failure(cause, f"{cause}; retrying", traceback=True)
        else:
            delay, failed_cycles = next_delay(interval, report, failed_cycles)

            log.info(
                "SLO cycle: %d SLOs, %d queries, %d status writes, %d rules written, %d events"
                " in %.2fs %s",
                report.slos,
                prometheus.queries - queries_before,
                report.status_writes,
                report.rules_written,
                report.events,
                report.seconds,
                report.problems or "",
            )
        progress.passed(next_within=delay + cycle_stalled_after(interval))
        await until_next_cycle(loop, index, delay)


async def until_next_cycle(loop: SLOLoop, index: kopf.Index[Any, Any], delay: float) -> None:
    """Sleep ``delay`` seconds, or less when an SLO is applied or its spec edited: its rules and
    first status then come within seconds, not up to an interval later. Cycles stay at least
    ``NEW_WORK_GAP_SECONDS`` apart, so 5,000 SLOs applied one by one cost a few cycles, not one
    cycle each."""
    deadline = time.monotonic() + delay
    await asyncio.sleep(min(delay, NEW_WORK_GAP_SECONDS))
    if delay <= NEW_WORK_GAP_SECONDS:
        return
    while (left := deadline - time.monotonic()) > 0:
        if loop.has_new_work([record for store in list(index.values()) for record in list(store)]):
            return
        await asyncio.sleep(min(left, NEW_WORK_POLL_SECONDS))


def _outage(error: BaseException) -> str:
    if isinstance(error, ApiException):
        return f"API error {error.status} {error.reason}"
    return f"no answer: {no_answer_reason(error)}"


async def heartbeat(health: OperatorHealth) -> None:
    """Beat while the event loop runs: liveness fails when the beat stops."""
    while True:
        health.beat()
        await asyncio.sleep(HEARTBEAT_SECONDS)
