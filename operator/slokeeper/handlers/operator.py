"""The kopf side of the operator: an index of SLOs, the task that runs the SLO loop, and the
start of the rollout scheduler (its handlers are in ``handlers.rollouts``).

No change handlers or timers on SLOs (a timer per object costs a task, a finalizer and a query
each); one loop reads the index every interval instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from slokeeper.alertmanager.silences import AlertmanagerSilences
from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.maintenance import NamespaceMaintenanceWindow
from slokeeper.api.references import ObjectRef
from slokeeper.handlers.health import HEARTBEAT_SECONDS, OperatorHealth
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.handlers.rollouts import RolloutScheduler
from slokeeper.handlers.settings import configure
from slokeeper.kube.connection import api_client
from slokeeper.kube.events import EventRecorder
from slokeeper.kube.rollout_resource import RolloutStore
from slokeeper.kube.rollout_target import DeploymentWorkload
from slokeeper.kube.rules_objects import RulesWriter
from slokeeper.kube.slo_status import SLOStatusWriter
from slokeeper.loops.rollout.loop import RolloutLoop
from slokeeper.loops.slo.loop import SLOLoop, next_delay
from slokeeper.loops.slo.maintenance import with_shared_windows
from slokeeper.loops.slo.record import SLORecord, slo_record
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.prometheus.slo_figures import SLOFiguresReader
from slokeeper.rollout.state_machine import Phase
from slokeeper.slo.maintenance import SharedWindow
from slokeeper.slo.objective import MaintenanceWindow

log = logging.getLogger("slokeeper")


@dataclass(frozen=True)
class OperatorConfig:
    prometheus: PrometheusAccess
    interval_seconds: float = 30.0
    kubeconfig: str | None = None
    metrics_port: int = 0
    metrics_address: str = "0.0.0.0"  # noqa: S104 - the Pod's own network namespace
    per_slo_metrics: bool = True
    clock_start: datetime | None = None
    crash_after: str | None = None  # fault injection for tests: a phase name
    alertmanager_url: str | None = None  # where maintenance silences are made


def crash_after(phase_name: str | None) -> Callable[[Phase], None]:
    """SIGKILL this process right after a status with this phase is written, before acting on
    it (``SLOKEEPER_TEST_CRASH_AFTER``): how the restart tests hit the worst moment exactly."""

    def maybe_crash(phase: Phase) -> None:
        if phase.value == phase_name:
            log.warning("test fault injection: SIGKILL after writing phase %s", phase.value)
            os.kill(os.getpid(), signal.SIGKILL)

    return maybe_crash


def rollout_clock(start: datetime | None) -> Callable[[], datetime]:
    """The rollout loop's clock: real time, or time running on from ``start`` (to rehearse a
    change calendar without waiting for Tuesday 02:00)."""
    if start is None:
        return lambda: datetime.now(UTC)
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod its ServiceAccount, elsewhere $KUBECONFIG (read when called, not at import)."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.index(GROUP, VERSION, "servicelevelobjectives")
async def slo_index(
    *, namespace: str | None, name: str, uid: str, meta: Any, body: Any, status: Any, **_: Any
) -> dict[tuple[str, str], SLORecord]:
    namespace = namespace or "default"
    return {
        (namespace, name): slo_record(
            namespace=namespace,
            name=name,
            uid=uid,
            generation=int(meta.get("generation", 0)),
            spec=body["spec"],
            status=status,
            labels=meta.get("labels"),
        )
    }


@kopf.index(GROUP, VERSION, "maintenancewindows")
async def maintenance_index(
    *, namespace: str | None, name: str, body: Any, **_: Any
) -> dict[str, SharedWindow]:
    """Each namespace's MaintenanceWindow objects (the API server has validated them)."""
    window = NamespaceMaintenanceWindow.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": dict(body["spec"])}
    ).spec
    return {
        namespace or "default": SharedWindow(
            name,
            MaintenanceWindow(window.start, window.end, window.reason),
            tuple(sorted(window.slo_selector.match_labels.items())),
        )
    }


def _owner(kind: str, namespace: str, name: str, uid: str) -> ObjectRef:
    return ObjectRef(kind, namespace, name, uid)


async def _run_slo_loop(
    loop: SLOLoop,
    index: kopf.Index[Any, Any],
    maintenance: kopf.Index[Any, Any],
    *,
    interval: float,
    metrics: OperatorMetrics,
    prometheus: PrometheusClient,
) -> None:
    failures = 0
    while True:
        records = [record for store in list(index.values()) for record in list(store)]
        shared = {namespace: list(store) for namespace, store in list(maintenance.items())}
        records = with_shared_windows(records, shared)
        delay = interval
        try:
            queries_before = prometheus.queries
            report = await asyncio.to_thread(loop.cycle, records, datetime.now(UTC))
            metrics.observe_cycle(report, prometheus.queries - queries_before)
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
        await asyncio.sleep(delay)


@kopf.on.startup()
async def start(*, settings: kopf.OperatorSettings, memo: Any, **kwargs: Any) -> None:
    configure(settings)
    operator_config: OperatorConfig = memo["config"]
    # Per-SLO gauges cost memory per SLO; keep them only when someone can scrape them.
    per_slo_metrics = operator_config.per_slo_metrics and operator_config.metrics_port > 0
    api = api_client(operator_config.kubeconfig)
    prometheus = operator_config.prometheus.client()
    loop = SLOLoop(
        figures=SLOFiguresReader(prometheus),
        status=SLOStatusWriter(api),
        events=EventRecorder(api),
        rules=RulesWriter(api),
        owner=_owner,
        silences=AlertmanagerSilences(operator_config.alertmanager_url)
        if operator_config.alertmanager_url
        else None,
    )
    metrics = OperatorMetrics(per_slo=per_slo_metrics)

    if operator_config.metrics_port:
        metrics.serve(operator_config.metrics_port, operator_config.metrics_address)
    memo["slo_task"] = asyncio.create_task(
        _run_slo_loop(
            loop,
            kwargs["slo_index"],
            kwargs["maintenance_index"],
            interval=operator_config.interval_seconds,
            metrics=metrics,
            prometheus=prometheus,
        )
    )
    events = EventRecorder(api)
    rollout_loop = RolloutLoop(
        RolloutStore(api),
        DeploymentWorkload(api, events),
        operator_config.prometheus.client(),
        rollout_clock(operator_config.clock_start),
        crash_after(operator_config.crash_after),
    )
    scheduler = RolloutScheduler(rollout_loop, metrics.observe_rollout)
    memo["rollout_loop"] = rollout_loop
    memo["rollout_scheduler"] = scheduler
    memo["rollout_task"] = asyncio.create_task(scheduler.run(kwargs["rollout_targets"]))
    memo["heartbeat_task"] = asyncio.create_task(_heartbeat(memo["health"]))


async def _heartbeat(health: OperatorHealth) -> None:
    while True:
        health.beat()
        await asyncio.sleep(HEARTBEAT_SECONDS)


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    for name in ("slo_task", "rollout_task", "heartbeat_task"):
        task: asyncio.Task[None] | None = memo.get(name)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
