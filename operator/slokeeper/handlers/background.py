"""The operator's long-running tasks besides the rollout scheduler: the SLO evaluation loop (one
task for every SLO, reading kopf's indexes each interval, marking its ``Progress`` after each
cycle so liveness sees a cycle that never ends) and the health heartbeat. Started by
``Runtime.start`` from the kopf startup handler.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import kopf

from slokeeper.handlers.health import (
    HEARTBEAT_SECONDS,
    STALLED_AFTER_SECONDS,
    OperatorHealth,
    Progress,
)
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.loops.slo.loop import SLOLoop, next_delay
from slokeeper.loops.slo.maintenance import with_shared_windows
from slokeeper.prometheus.client import PrometheusClient

log = logging.getLogger("slokeeper")


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
) -> None:
    """Evaluate every SLO each interval (sooner or later as ``next_delay`` says), forever."""
    failures = 0
    while True:
        records = [record for store in list(index.values()) for record in list(store)]
        shared = {namespace: list(store) for namespace, store in list(maintenance.items())}
        records = with_shared_windows(records, shared)
        delay = interval
        try:
            queries_before = prometheus.queries
            report = await asyncio.to_thread(loop.cycle, records, datetime.now(UTC))
            metrics.observe_cycle(report)
        except Exception:
            log.exception("SLO evaluation cycle failed; retrying in %.0fs", interval)
        else:
            delay, failures = next_delay(interval, report, failures)

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
        await asyncio.sleep(delay)


async def heartbeat(health: OperatorHealth) -> None:
    """Beat while the event loop runs: liveness fails when the beat stops."""
    while True:
        health.beat()
        await asyncio.sleep(HEARTBEAT_SECONDS)
