"""The operator's own Prometheus metrics: how evaluation goes, and each SLO's headline figures.

Per-SLO series are bounded by the number of SLOs (one budget gauge, one burn-rate gauge per alert
window) and can be switched off for very large installations with ``--no-slo-metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from slokeeper.loops.slo_loop import CycleReport


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
        for (namespace, name), figures in report.figures.items():
            if figures.error_budget_remaining_ratio is not None:
                self.budget_remaining.labels(namespace, name).set(
                    figures.error_budget_remaining_ratio
                )
            for window, rate in figures.burn_rates:
                self.burn_rate.labels(namespace, name, window).set(rate)

    def serve(self, port: int, address: str = "0.0.0.0") -> None:  # noqa: S104 - a Pod's port
        start_http_server(port, addr=address, registry=self.registry)
