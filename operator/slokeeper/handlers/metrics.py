"""The operator's own Prometheus metrics: how evaluation goes, and each SLO's headline figures.

Per-SLO series are bounded by the number of SLOs (one budget gauge, one burn-rate gauge per alert
window) and can be switched off for very large installations with ``--no-slo-metrics``.
"""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from slokeeper.loops.rollout_loop import TickResult
from slokeeper.loops.slo_loop import CycleReport
from slokeeper.rollout.state_machine import Phase


class OperatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, per_slo: bool = True) -> None:
        self.registry = registry or CollectorRegistry()
        self.per_slo = per_slo
        self.cycle_seconds = Histogram(
            "slokeeper_slo_cycle_duration_seconds",
            "Wall time of one SLO evaluation cycle.",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.slos = Gauge("slokeeper_slos", "SLOs known to the operator.", registry=self.registry)
        self.queries = Counter(
            "slokeeper_prometheus_queries_total", "PromQL queries sent.", registry=self.registry
        )
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
        # A state set: 1 for the phase a ChangeRollout is in, 0 for the others.
        self.rollout_phase = Gauge(
            "slokeeper_rollout_phase",
            "Phase of each ChangeRollout (1 for the current one).",
            ["namespace", "rollout", "phase"],
            registry=self.registry,
        )
        self.analyses = Counter(
            "slokeeper_rollout_analyses_total",
            "Canary analyses run, by outcome.",
            ["outcome"],
            registry=self.registry,
        )

    def observe_rollout(self, key: tuple[str, str], result: TickResult | None) -> None:
        """After a tick; ``None`` when the ChangeRollout is gone (its series go too)."""
        namespace, name = key
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

    def observe_cycle(self, report: CycleReport, queries: int) -> None:
        self.cycle_seconds.observe(report.seconds)
        self.slos.set(report.slos)
        self.queries.inc(queries)
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
