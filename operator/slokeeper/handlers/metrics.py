"""The operator's own Prometheus metrics: how evaluation goes, and each SLO's headline figures.

Per-SLO series are bounded by the number of SLOs (one budget gauge, one burn-rate gauge per alert
window) and can be switched off for very large installations with ``--no-slo-metrics``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from slokeeper.loops.rollout.loop import TickResult
from slokeeper.loops.slo.loop import CycleReport
from slokeeper.rollout.delivery import FinishedChange, delivery_figures
from slokeeper.rollout.states import Phase

OUTCOMES = {
    "promoted": "Promoted",
    "rolledBack": "RolledBack",
    "aborted": "Aborted",
    "superseded": "Superseded",
}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class DeliveryRecords(Collector):
    """The DORA four per ChangeRollout, worked out from its status' change records at scrape
    time (labels: namespace, rollout, and outcome for the change counter)."""

    def __init__(self) -> None:
        self._statuses: dict[tuple[str, str], dict[str, Any]] = {}

    def update(self, key: tuple[str, str], status: dict[str, Any] | None) -> None:
        if status is None:
            self._statuses.pop(key, None)
        else:  # only the records: a whole status per rollout would be kept for nothing
            self._statuses[key] = {
                "changeCounts": status.get("changeCounts"),
                "history": status.get("history", []),
            }

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        labels = ["namespace", "rollout"]
        changes = CounterMetricFamily(
            "slokeeper_rollout_changes",
            "Changes that ended, by outcome (deployment frequency: the Promoted rate).",
            labels=[*labels, "outcome"],
        )
        lead = GaugeMetricFamily(
            "slokeeper_rollout_lead_time_seconds",
            "Median time from a template change seen to promoted, over the recent changes.",
            labels=labels,
        )
        failure = GaugeMetricFamily(
            "slokeeper_rollout_change_failure_ratio",
            "Changes rolled back or aborted, of all changes that started.",
            labels=labels,
        )
        restore = GaugeMetricFamily(
            "slokeeper_rollout_time_to_restore_seconds",
            "Median time from a rollback decision to the stable replicas all available again.",
            labels=labels,
        )
        for (namespace, name), status in sorted(self._statuses.items()):
            counts = status.get("changeCounts") or {}
            for key, outcome in OUTCOMES.items():
                changes.add_metric([namespace, name, outcome], counts.get(key, 0))
            recent = [
                FinishedChange(
                    change.get("outcome", ""),
                    datetime.fromisoformat(change["startedAt"]),
                    _time(change.get("finishedAt")),
                    _time(change.get("restoredAt")),
                )
                for change in status.get("history", [])
            ]
            figures = delivery_figures(
                recent, {OUTCOMES[k]: v for k, v in counts.items() if k in OUTCOMES}
            )
            for family, value in (
                (lead, figures.lead_time_seconds),
                (failure, figures.change_failure_ratio),
                (restore, figures.time_to_restore_seconds),
            ):
                if value is not None:
                    family.add_metric([namespace, name], value)
        yield from (changes, lead, failure, restore)


class QueriesSent(Collector):
    """PromQL queries sent, read at scrape time from the one client every loop shares."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "slokeeper_prometheus_queries", "PromQL queries sent.", value=self.count()
        )


class OperatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, per_slo: bool = True) -> None:
        self.registry = registry or CollectorRegistry()
        self.per_slo = per_slo
        self.leader = Gauge(
            "slokeeper_leader",
            "1 on the replica that holds the Lease and acts, 0 on a standby.",
            registry=self.registry,
        )
        self.cycle_seconds = Histogram(
            "slokeeper_slo_cycle_duration_seconds",
            "Wall time of one SLO evaluation cycle.",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.slos = Gauge("slokeeper_slos", "SLOs known to the operator.", registry=self.registry)
        self.status_writes = Counter(
            "slokeeper_status_writes_total", "Status updates written.", registry=self.registry
        )
        self.rules_written = Counter(
            "slokeeper_rules_written_total", "Rule objects written.", registry=self.registry
        )
        self.events = Counter("slokeeper_events_total", "Events posted.", registry=self.registry)
        self.problems = Gauge(
            "slokeeper_slo_problems",
            "SLOs with a problem in the last cycle, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.budget_remaining = Gauge(
            "slokeeper_slo_error_budget_remaining_ratio",
            "Share of the error budget left, per SLO.",
            ["namespace", "slo"],
            registry=self.registry,
        )
        self.burn_rate = Gauge(
            "slokeeper_slo_burn_rate",
            "Burn rate per SLO and window.",
            ["namespace", "slo", "window"],
            registry=self.registry,
        )
        self.burn_rate_threshold = Gauge(
            "slokeeper_slo_burn_rate_threshold",
            "Burn rate at which the SLO's alert of this severity fires, per long window.",
            ["namespace", "slo", "window", "severity"],
            registry=self.registry,
        )
        self._rollout_metrics()

    def _rollout_metrics(self) -> None:
        # A state set: 1 for the phase a ChangeRollout is in, 0 for the others.
        self.rollout_phase = Gauge(
            "slokeeper_rollout_phase",
            "Phase of each ChangeRollout (1 for the current one).",
            ["namespace", "rollout", "phase"],
            registry=self.registry,
        )
        self.delivery = DeliveryRecords()
        self.registry.register(self.delivery)
        self.analyses = Counter(
            "slokeeper_rollout_analyses_total",
            "Canary analyses run, by outcome.",
            ["outcome"],
            registry=self.registry,
        )

    def count_queries(self, queries_sent: Callable[[], int]) -> None:
        """Export ``slokeeper_prometheus_queries_total`` from this count, read at each scrape:
        the count of the one Prometheus client the SLO and rollout loops share."""
        self.registry.register(QueriesSent(queries_sent))

    def observe_rollout(self, key: tuple[str, str], result: TickResult | None) -> None:
        """After a tick; ``None`` when the ChangeRollout is gone (its series go too)."""
        namespace, name = key
        if result is None or result.status is not None:
            self.delivery.update(key, result.status if result else None)
        if result is None:
            for phase in Phase:
                with contextlib.suppress(KeyError):
                    self.rollout_phase.remove(namespace, name, phase.value)
            return
        if result.phase is not None:
            for phase in Phase:
                current = 1 if phase is result.phase else 0
                self.rollout_phase.labels(namespace, name, phase.value).set(current)
        if result.analysed is not None:
            self.analyses.labels(result.analysed.value).inc()

    def observe_cycle(self, report: CycleReport) -> None:
        self.cycle_seconds.observe(report.seconds)
        self.slos.set(report.slos)
        self.status_writes.inc(report.status_writes)
        self.rules_written.inc(report.rules_written)
        self.events.inc(report.events)
        self.problems.clear()
        for reason, count in report.problems.items():
            self.problems.labels(reason).set(count)
        if not self.per_slo:
            return
        self.budget_remaining.clear()
        self.burn_rate.clear()
        self.burn_rate_threshold.clear()
        for (namespace, name), figures in report.figures.items():
            if figures.error_budget_remaining_ratio is not None:
                self.budget_remaining.labels(namespace, name).set(
                    figures.error_budget_remaining_ratio
                )
            for window, rate in figures.burn_rates:
                self.burn_rate.labels(namespace, name, window).set(rate)
            for severity, window, threshold in figures.alert_thresholds:
                self.burn_rate_threshold.labels(namespace, name, window, severity).set(threshold)

    def serve(self, port: int, address: str = "0.0.0.0") -> None:  # noqa: S104 - a Pod's port
        start_http_server(port, addr=address, registry=self.registry)
