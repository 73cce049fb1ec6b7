"""The number of Prometheus queries per cycle does not grow with the number of SLOs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from slokeeper.prometheus.client import PrometheusUnreachableError, QueryRejectedError, Sample
from slokeeper.prometheus.slo_figures import SLOFiguresReader
from slokeeper.slo.durations import format_duration
from slokeeper.slo.evaluation import Health
from slokeeper.slo.objective import Objective, RatioIndicator, RollingWindow
from slokeeper.slo.rules import recorded_windows
from slokeeper.slo.windows import DAY

NOW = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
INDICATOR = RatioIndicator(total="sum(rate(t[{{.window}}]))", errors="sum(rate(e[{{.window}}]))")


def _objectives(count: int, days: int = 28) -> list[Objective]:
    return [
        Objective("shop", f"slo-{i}", "checkout", 99.9, RollingWindow(days * DAY), INDICATOR)
        for i in range(count)
    ]


class RecordingPrometheus:
    """Answers like a Prometheus whose recording rules hold a 0.05 % error ratio for every SLO."""

    def __init__(self, objectives: list[Objective], recorded: bool = True) -> None:
        self.objectives = objectives
        self.recorded = recorded
        self.queries: list[str] = []

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        self.queries.append(promql)
        keys = [{"slo_namespace": o.namespace, "slo": o.name} for o in self.objectives]
        if promql.startswith("{__name__=~") and self.recorded:
            samples = [
                Sample(
                    {**k, "__name__": "slokeeper_slo_error_ratio", "window": format_duration(w)},
                    0.0005,
                )
                for o, k in zip(self.objectives, keys, strict=True)
                for w in recorded_windows(o)
            ]
            samples += [
                Sample({**k, "__name__": "slokeeper_slo_requests_per_second", "window": "1h"}, 30.0)
                for k in keys
            ]
            return samples
        if promql.startswith("label_replace") and self.recorded:
            return [Sample({**k, "part": "errors"}, 5.0) for k in keys] + [
                Sample({**k, "part": "requests"}, 10_000.0) for k in keys
            ]
        if re.search(r"\bsum\(", promql) and not self.recorded:
            return [Sample({}, 0.0005)]
        return []


@pytest.mark.parametrize("count", [1, 10, 1000])
def test_one_query_for_all_windows_and_one_per_span(count: int) -> None:
    objectives = _objectives(count)
    prometheus = RecordingPrometheus(objectives)
    observations = SLOFiguresReader(prometheus).read(objectives, NOW)
    assert len(prometheus.queries) == 2
    assert len(observations) == count
    observation = observations[("shop", "slo-0")]
    assert observation.span_error_ratio == pytest.approx(5 / 10_000)
    assert set(observation.window_error_ratios) == set(recorded_windows(objectives[0]))


def test_each_distinct_window_length_adds_one_query() -> None:
    objectives = _objectives(500, days=28) + _objectives(500, days=30)
    objectives = [
        Objective(o.namespace, f"{o.name}-{i}", o.service, o.target_percent, o.window, o.indicator)
        for i, o in enumerate(objectives)
    ]
    prometheus = RecordingPrometheus(objectives)
    SLOFiguresReader(prometheus).read(objectives, NOW)
    assert len(prometheus.queries) == 3


def test_slos_without_recorded_data_are_read_directly() -> None:
    objectives = _objectives(3)
    prometheus = RecordingPrometheus(objectives, recorded=False)
    observations = SLOFiguresReader(prometheus, fallback_parallelism=2).read(objectives, NOW)
    per_slo = len(recorded_windows(objectives[0])) + 2  # each window, the span, the request rate
    assert len(prometheus.queries) == 2 + 3 * per_slo
    assert observations[("shop", "slo-2")].span_error_ratio == pytest.approx(0.0005)


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        raise self.error


def test_an_unreachable_prometheus_is_reported_on_every_slo_without_raising() -> None:
    objectives = _objectives(3)
    down = Failing(PrometheusUnreachableError("connection refused"))
    observations = SLOFiguresReader(down).read(objectives, NOW)
    assert {o.problem for o in observations.values()} == {Health.PROMETHEUS_UNREACHABLE}
    assert "connection refused" in observations[("shop", "slo-1")].problem_message


def test_a_rejected_query_is_named_before_rules_are_written() -> None:
    reader = SLOFiguresReader(Failing(QueryRejectedError("1:5: parse error: unexpected <by>")))
    assert reader.rejected_query(_objectives(1)[0]) == (
        "Prometheus rejected a query: 1:5: parse error: unexpected <by>"
    )
