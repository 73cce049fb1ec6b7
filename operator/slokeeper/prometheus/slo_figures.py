"""Reads every SLO's figures from Prometheus with a number of queries that does not grow with
the number of SLOs: one query for all recorded window ratios and hourly request rates, and one
per distinct measurement span (rolling windows of the same length, calendar periods of the same
zone share one).

Only the recording rules' own output is read (``recorded_series``: no ``job``/``instance``
label, one series per SLO and window); a series that does not parse is skipped, never a failed
cycle.

An SLO without recorded figures costs no query of its own once Prometheus has evaluated its rules
(one ``/api/v1/rules`` request for all of them says which it has): its rules ran and found no
events (no traffic yet), which is exactly what reading its own queries would say. Only SLOs
whose rules Prometheus has not evaluated (just written, refused, or a backend without that API),
whose recorded figures are ambiguous, or whose latency threshold may not be a bucket are read
from their own queries, at most ``direct_reads_per_cycle`` of them per cycle, those read longest
ago first; the others keep the figures of their last direct read until their turn.

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
from typing import Protocol, runtime_checkable

from slokeeper.prometheus.client import (
    PrometheusUnreachableError,
    QueryRejectedError,
    Sample,
)
from slokeeper.prometheus.recorded_series import (
    RECORDED_QUERY,
    RULE_OUTPUT,
    Recorded,
    RecordedSeries,
)
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.durations import format_duration
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
DIRECT_READS_PER_CYCLE = 16
CHECKED_TOGETHER = 50


def key_of(objective: Objective) -> Key:
    return (objective.namespace, objective.name)


def _to_check(objective: Objective) -> tuple[str, ...]:
    return written_queries(objective, min(recorded_windows(objective)))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def span_seconds(objective: Objective, now: datetime) -> int:
    """The span the SLI covers now, in whole hours (at least one)."""
    elapsed = measurement_span(objective.window, now).elapsed_seconds
    return max(1, int(elapsed // BUDGET_WINDOW_SECONDS)) * int(BUDGET_WINDOW_SECONDS)


class InstantQueries(Protocol):
    """What the reader needs of a Prometheus client (PrometheusClient in production)."""

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]: ...


@runtime_checkable
class RuleListing(Protocol):
    """What a client that can list Prometheus' evaluated rules offers (PrometheusClient)."""

    def evaluated_recording_rules(self, name: str) -> list[dict[str, str]] | None: ...


@dataclass(frozen=True)
class _DirectRead:
    objective: Objective
    observation: Observation
    cycle: int


def _from_recorded(
    objective: Objective, figures: Recorded | None, span_ratio: float | None
) -> Observation:
    """The SLO's observation from its recorded series; a window without one has no events."""
    figures = figures or Recorded()
    windows = recorded_windows(objective)
    if span_ratio is None:
        # Less than an hour of recorded history: the latest hour is all there is.
        span_ratio = figures.window_ratios.get(BUDGET_WINDOW_SECONDS)
    return Observation(
        {window: figures.window_ratios.get(window) for window in windows},
        span_ratio,
        figures.requests_per_second,
    )


RULES_PENDING = Observation(
    problem=Health.RULES_PENDING,
    problem_message=(
        "Its rules are written; Prometheus has not evaluated them yet, and its own queries are "
        f"read in turn ({DIRECT_READS_PER_CYCLE} SLOs a cycle)."
    ),
)


class SLOFiguresReader:
    """Turns Prometheus answers into one Observation per SLO.

    Every query of a read is evaluated at the ``now`` it is given, not whenever Prometheus gets
    to it: the figures are one consistent snapshot, and ``slokeeper report`` reproduces a status
    exactly by reading again at its ``lastEvaluationTime``."""

    def __init__(
        self,
        client: InstantQueries,
        fallback_parallelism: int = 8,
        direct_reads_per_cycle: int = DIRECT_READS_PER_CYCLE,
        *,
        rule_listing: bool = True,
    ) -> None:
        """``rule_listing=False`` for reads in the past (``slokeeper report``): which rules
        Prometheus has evaluated by now says nothing of what it had then, so an SLO without
        recorded figures is read from its own queries."""
        self.client = client
        self.rule_listing = rule_listing
        self.fallback_parallelism = fallback_parallelism
        self.direct_reads_per_cycle = direct_reads_per_cycle
        self.series = RecordedSeries()
        self._direct_reads: dict[Key, _DirectRead] = {}
        # The SLOs whose rules the last read found unevaluated (or could not tell).
        self._unevaluated: set[Key] = set()
        self._cycle = 0

    def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Key, Observation]:
        self._cycle += 1
        try:
            recorded, ambiguous = self.series.figures(self.client.query(RECORDED_QUERY, now))
            spans = self._spans(
                {span_seconds(o, now) for o in objectives if key_of(o) in recorded}, now
            )
        except (PrometheusUnreachableError, QueryRejectedError) as error:
            problem = Observation(problem=Health.PROMETHEUS_UNREACHABLE, problem_message=str(error))
            return {key_of(o): problem for o in objectives}
        observations: dict[Key, Observation] = {}
        unread = []
        for objective in objectives:
            key = key_of(objective)
            figures = recorded.get(key)
            if (
                figures is not None
                and set(recorded_windows(objective)) <= figures.window_ratios.keys()
            ):
                span = spans.get(span_seconds(objective, now), {}).get(key)
                observations[key] = _from_recorded(objective, figures, span)
            else:
                unread.append(objective)
        evaluated = self._evaluated(unread)
        direct = []
        for objective in unread:
            key = key_of(objective)
            if (
                key in evaluated
                and key not in ambiguous
                and not _diagnose(objective, recorded.get(key))
            ):
                if key in self._unevaluated:
                    # First listed as evaluated: maybe after ``now``, which this snapshot cannot
                    # see. Its output shows next cycle; taken for none now, a healthy new SLO
                    # said NoData (with a Warning Event) for a cycle.
                    observations[key] = self._last_direct_read(objective) or RULES_PENDING
                    continue
                span = spans.get(span_seconds(objective, now), {}).get(key)
                observations[key] = _from_recorded(objective, recorded.get(key), span)
            else:
                direct.append(objective)
        observations.update(self._read_directly(direct, now))
        self._unevaluated = {key_of(objective) for objective in direct}
        self._forget_all_but(objectives)
        return observations

    def _evaluated(self, objectives: Sequence[Objective]) -> set[Key]:
        """The SLOs (of those given) whose rules Prometheus has evaluated; none if unknown."""
        if not objectives or not self.rule_listing or not isinstance(self.client, RuleListing):
            return set()
        rules = self.client.evaluated_recording_rules(REQUESTS_PER_SECOND) or []
        return {(labels.get("slo_namespace", ""), labels.get("slo", "")) for labels in rules}

    def _read_directly(
        self, objectives: Sequence[Objective], now: datetime
    ) -> dict[Key, Observation]:
        """The SLOs read longest ago (or never, or changed since) read from their own queries,
        at most ``direct_reads_per_cycle``; the others keep their last direct read's figures."""

        def last_read(objective: Objective) -> int:
            before = self._direct_reads.get(key_of(objective))
            return before.cycle if before is not None and before.objective == objective else -1

        queue = sorted(objectives, key=last_read)
        chosen = queue[: self.direct_reads_per_cycle]
        with ThreadPoolExecutor(max_workers=self.fallback_parallelism) as pool:
            for objective, observation in zip(
                chosen, pool.map(lambda o: self._direct(o, now), chosen), strict=True
            ):
                self._direct_reads[key_of(objective)] = _DirectRead(
                    objective, observation, self._cycle
                )
        # Not read yet: its turn has not come, no figures yet, which is no news.
        return {key_of(o): self._last_direct_read(o) or RULES_PENDING for o in queue}

    def _last_direct_read(self, objective: Objective) -> Observation | None:
        """What this SLO's own queries last said, unless its spec changed since."""
        before = self._direct_reads.get(key_of(objective))
        return before.observation if before is not None and before.objective == objective else None

    def _forget_all_but(self, objectives: Sequence[Objective]) -> None:
        keep = {key_of(o) for o in objectives}
        for key in [key for key in self._direct_reads if key not in keep]:
            del self._direct_reads[key]

    def _spans(self, spans: set[int], now: datetime) -> dict[int, dict[Key, float]]:
        since_step = now.timestamp() % BUDGET_WINDOW_SECONDS
        return {span: self._span(span, since_step, now) for span in sorted(spans)}

    def _span(self, span: int, since_step: float, now: datetime) -> dict[Key, float]:
        """Traffic-weighted error ratio per SLO over the last ``span`` seconds."""
        hourly = f'{{window="{HOURLY}",{RULE_OUTPUT}}}'
        # One series per SLO on each side, whatever else was recorded under these names: a
        # second series for an SLO (a forged one) must not make the join fail for every SLO.
        ratio = f"max by (slo_namespace, slo) ({ERROR_RATIO}{hourly})"
        requests = f"max by (slo_namespace, slo) ({REQUESTS_PER_SECOND}{hourly})"
        errors = f"({ratio} * {requests})"
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

    def rejected_queries(self, objectives: Sequence[Objective]) -> dict[Key, str]:
        """Prometheus' objection to each SLO's queries it rejects, asked before rules are written.

        Prometheus refuses a rule file with one bad expression, and with it every other rule in
        the reload, so a query it rejects must never reach a rules object. SLOs applied together
        are checked together: one query joins up to ``CHECKED_TOGETHER`` SLOs' queries with
        ``or``, which evaluates every part; only a batch Prometheus rejects is checked SLO by
        SLO, to name the culprit. (5,000 SLOs applied at once cost 100 queries, not 10,000.)
        """
        rejected: dict[Key, str] = {}
        for first in range(0, len(objectives), CHECKED_TOGETHER):
            batch = objectives[first : first + CHECKED_TOGETHER]
            together = " or ".join(f"({query})" for o in batch for query in _to_check(o))
            if len(batch) > 1 and self._accepted_together(together):
                continue
            for objective in batch:
                for query in _to_check(objective):
                    if (problem := self._rejection(query)) is not None:
                        rejected[key_of(objective)] = f"Prometheus rejected a query: {problem}"
                        break
        return rejected

    def _accepted_together(self, query: str) -> bool:
        """A batch Prometheus could not answer (fifty heavy queries may outlast the timeout) is
        checked SLO by SLO too; if Prometheus is down, the first of those says so."""
        try:
            return self._rejection(query) is None
        except PrometheusUnreachableError:
            return False

    def _rejection(self, query: str) -> str | None:
        try:
            self.client.query(query)
        except QueryRejectedError as error:
            return str(error)
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


def _diagnose(objective: Objective, figures: Recorded | None) -> bool:
    """Whether recorded figures leave a question only the SLO's own queries answer: a latency
    SLO with traffic but no error ratio may have a threshold that is no bucket boundary."""
    return (
        isinstance(objective.indicator, LatencyIndicator)
        and figures is not None
        and bool(figures.requests_per_second)
        and not figures.window_ratios
    )
