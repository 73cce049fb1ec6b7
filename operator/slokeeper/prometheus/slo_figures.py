"""Reads every SLO's figures from Prometheus with a number of queries that does not grow with
the number of SLOs: one query for all recorded window ratios and hourly request rates, and one
per distinct measurement span (rolling windows of the same length, calendar periods of the same
zone share one). SLOs whose recording rules have not produced data yet are read directly from
their own queries instead, a bounded number at a time.

The SLI over the span is a traffic-weighted sum of the recorded hourly figures: a subquery with a
one-hour step visits each completed hour once; the part of the current hour since the last step
is added from the latest hourly rate. Calendar periods that start off the hour (zones with
half-hour offsets) are counted from the nearest hour boundary.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from slokeeper.prometheus.client import (
    PrometheusUnreachableError,
    QueryRejectedError,
    Sample,
)
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.durations import duration_seconds, format_duration
from slokeeper.slo.evaluation import Health, Observation
from slokeeper.slo.objective import LatencyIndicator, Objective
from slokeeper.slo.rules import (
    BUDGET_WINDOW_SECONDS,
    ERROR_RATIO,
    REQUESTS_PER_SECOND,
    error_ratio_query,
    le_matcher,
    recorded_windows,
    total_query,
    with_selector,
    written_queries,
)

Key = tuple[str, str]
HOURLY = format_duration(BUDGET_WINDOW_SECONDS)


def key_of(objective: Objective) -> Key:
    return (objective.namespace, objective.name)


@dataclass
class _Recorded:
    window_ratios: dict[float, float]
    requests_per_second: float | None = None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def span_seconds(objective: Objective, now: datetime) -> int:
    """The span the SLI covers now, in whole hours (at least one)."""
    elapsed = measurement_span(objective.window, now).elapsed_seconds
    return max(1, int(elapsed // BUDGET_WINDOW_SECONDS)) * int(BUDGET_WINDOW_SECONDS)


class InstantQueries(Protocol):
    """What the reader needs of a Prometheus client (PrometheusClient in production)."""

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]: ...


class SLOFiguresReader:
    """Turns Prometheus answers into one Observation per SLO.

    Every query of a read is evaluated at the ``now`` it is given, not whenever Prometheus gets
    to it: the figures are one consistent snapshot, and ``slokeeper report`` reproduces a status
    exactly by reading again at its ``lastEvaluationTime``."""

    def __init__(self, client: InstantQueries, fallback_parallelism: int = 8) -> None:
        self.client = client
        self.fallback_parallelism = fallback_parallelism

    def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Key, Observation]:
        try:
            recorded = self._recorded(now)
            spans = self._spans({span_seconds(o, now) for o in objectives}, now)
        except (PrometheusUnreachableError, QueryRejectedError) as error:
            problem = Observation(problem=Health.PROMETHEUS_UNREACHABLE, problem_message=str(error))
            return {key_of(o): problem for o in objectives}
        observations: dict[Key, Observation] = {}
        missing = []
        for objective in objectives:
            key = key_of(objective)
            figures = recorded.get(key)
            wanted = set(recorded_windows(objective))
            if figures is None or not wanted <= figures.window_ratios.keys():
                missing.append(objective)
                continue
            span_ratio = spans.get(span_seconds(objective, now), {}).get(key)
            if span_ratio is None:
                # Less than an hour of recorded history: the latest hour is all there is.
                span_ratio = figures.window_ratios[BUDGET_WINDOW_SECONDS]
            observations[key] = Observation(
                {window: figures.window_ratios[window] for window in wanted},
                span_ratio,
                figures.requests_per_second,
            )
        if missing:
            with ThreadPoolExecutor(max_workers=self.fallback_parallelism) as pool:
                for objective, observation in zip(
                    missing, pool.map(lambda o: self._direct(o, now), missing), strict=True
                ):
                    observations[key_of(objective)] = observation
        return observations

    def _recorded(self, now: datetime) -> dict[Key, _Recorded]:
        samples = self.client.query(f'{{__name__=~"{ERROR_RATIO}|{REQUESTS_PER_SECOND}"}}', now)
        recorded: dict[Key, _Recorded] = defaultdict(lambda: _Recorded({}))
        for sample in samples:
            labels = sample.labels
            key = (labels.get("slo_namespace", ""), labels.get("slo", ""))
            value = _finite(sample.value)
            window = duration_seconds(labels["window"]) if "window" in labels else None
            if labels.get("__name__") == REQUESTS_PER_SECOND:
                recorded[key].requests_per_second = value
            elif window is not None and value is not None:
                recorded[key].window_ratios[window] = value
        return dict(recorded)

    def _spans(self, spans: set[int], now: datetime) -> dict[int, dict[Key, float]]:
        since_step = now.timestamp() % BUDGET_WINDOW_SECONDS
        return {span: self._span(span, since_step, now) for span in sorted(spans)}

    def _span(self, span: int, since_step: float, now: datetime) -> dict[Key, float]:
        """Traffic-weighted error ratio per SLO over the last ``span`` seconds."""
        hourly = f'{{window="{HOURLY}"}}'
        errors = f"({ERROR_RATIO}{hourly} * on (slo_namespace, slo) {REQUESTS_PER_SECOND}{hourly})"
        requests = f"{REQUESTS_PER_SECOND}{hourly}"
        step = int(BUDGET_WINDOW_SECONDS)
        duration = format_duration(span)
        # Per SLO: the sum over completed hours, plus the current hour's part since the last step.
        totals_of = {
            part: f"sum by (slo_namespace, slo) ("
            f"{step} * sum_over_time({expr}[{duration}:{HOURLY}]) + {since_step:.0f} * {expr})"
            for part, expr in (("errors", errors), ("requests", requests))
        }
        query = " or ".join(
            f'label_replace({total}, "part", "{part}", "", "")' for part, total in totals_of.items()
        )
        totals: dict[Key, dict[str, float]] = defaultdict(dict)
        for sample in self.client.query(query, now):
            key = (sample.labels.get("slo_namespace", ""), sample.labels.get("slo", ""))
            totals[key][sample.labels.get("part", "")] = sample.value
        ratios = {}
        for key, parts in totals.items():
            requests_total, errors_total = parts.get("requests"), parts.get("errors")
            if requests_total and errors_total is not None and requests_total > 0:
                ratios[key] = errors_total / requests_total
        return ratios

    def rejected_query(self, objective: Objective) -> str | None:
        """Prometheus' objection to this SLO's queries, if any, asked before its rules are written.

        Prometheus refuses to load a rule file with one bad expression, and with it every other
        rule in the reload, so a query it rejects must never reach a rules object.
        """
        for query in written_queries(objective, min(recorded_windows(objective))):
            try:
                self.client.query(query)
            except QueryRejectedError as error:
                return f"Prometheus rejected a query: {error}"
        return None

    def _direct(self, objective: Objective, now: datetime) -> Observation:
        """One SLO's figures from its own queries, before its recording rules have data."""
        try:
            ratios = {
                window: self._single(error_ratio_query(objective, window), now)
                for window in recorded_windows(objective)
            }
            span = self._single(error_ratio_query(objective, span_seconds(objective, now)), now)
            requests = self._single(total_query(objective, BUDGET_WINDOW_SECONDS), now)
            if span is None and isinstance(objective.indicator, LatencyIndicator):
                missing_bucket = self._missing_bucket(objective.indicator)
                if missing_bucket:
                    return Observation(
                        problem=Health.THRESHOLD_NOT_A_BUCKET, problem_message=missing_bucket
                    )
        except QueryRejectedError as error:
            return Observation(
                problem=Health.QUERY_INVALID,
                problem_message=f"Prometheus rejected a query: {error}",
            )
        except PrometheusUnreachableError as error:
            return Observation(problem=Health.PROMETHEUS_UNREACHABLE, problem_message=str(error))
        return Observation(ratios, span, requests)

    def error_ratio_between(
        self, objective: Objective, start: datetime, end: datetime
    ) -> float | None:
        """The SLO's error ratio from ``start`` to ``end`` (a maintenance window), or None."""
        seconds = int((end - start).total_seconds())
        if seconds < 1:
            return None
        try:
            return self._single(error_ratio_query(objective, seconds), end)
        except (PrometheusUnreachableError, QueryRejectedError):
            return None

    def _single(self, query: str, now: datetime) -> float | None:
        samples: list[Sample] = self.client.query(query, now)
        return _finite(samples[0].value) if samples else None

    def _missing_bucket(self, indicator: LatencyIndicator) -> str | None:
        selector = indicator.selector.strip()
        buckets = f"{indicator.metric}_bucket{{{selector}}}"
        present = self.client.query(f"count by (le) ({buckets})")
        if not present:
            return None  # no series at all: plain no data, not a wrong threshold
        threshold = le_matcher(indicator.threshold)
        at_threshold = self.client.query(
            f"count({with_selector(f'{indicator.metric}_bucket', selector, threshold)})"
        )
        if at_threshold:
            return None
        boundaries = sorted(
            (sample.labels.get("le", "") for sample in present),
            key=lambda le: float("inf") if le == "+Inf" else float(le),
        )
        return (
            f"threshold {indicator.threshold:g} is not a bucket boundary of {indicator.metric}; "
            f"its buckets are le={', '.join(boundaries)}"
        )
