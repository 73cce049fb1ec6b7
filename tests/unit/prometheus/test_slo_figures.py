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
    # The recorded figures; no span query, since no SLO has recorded figures to sum.
    assert len(prometheus.queries) == 1 + 3 * per_slo
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
    assert reader.rejected_queries(_objectives(1)) == {
        ("shop", "slo-0"): "Prometheus rejected a query: 1:5: parse error: unexpected <by>"
    }


class RejectingPrometheus(RecordingPrometheus):
    """Rejects, as Prometheus would, any query that holds the metric ``typo{``."""

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        if "typo{" in promql:
            self.queries.append(promql)
            raise QueryRejectedError('1:10: parse error: unexpected "{"')
        return super().query(promql, at)


def test_slos_applied_together_have_their_queries_checked_together() -> None:
    """5,000 new SLOs cost 100 checks, not 10,000; a batch Prometheus rejects is checked SLO by
    SLO, so only the culprit is named."""
    objectives = _objectives(5000)
    prometheus = RejectingPrometheus(objectives)
    assert SLOFiguresReader(prometheus).rejected_queries(objectives) == {}
    assert len(prometheus.queries) == 100
    assert prometheus.queries[0].count(") or (") == 99  # 50 SLOs, an errors and a total query each
    culprit = Objective(
        "shop", "slo-typo", "checkout", 99.9, RollingWindow(28 * DAY),
        RatioIndicator(total="sum(rate(typo{}[{{.window}}]))", errors=INDICATOR.errors),
    )  # fmt: skip
    prometheus.queries.clear()
    rejected = SLOFiguresReader(prometheus).rejected_queries([*objectives[:30], culprit])
    assert rejected == {
        ("shop", "slo-typo"): 'Prometheus rejected a query: 1:10: parse error: unexpected "{"'
    }
    assert len(prometheus.queries) == 1 + 30 * 2 + 1, (
        "the batch, each SLO, the culprit rejected at once"
    )


class SlowOnBatches(RecordingPrometheus):
    """Times out on any query joining several SLOs' (as fifty heavy queries might)."""

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        self.queries.append(promql)
        if promql.count(") or (") > 1:
            raise PrometheusUnreachableError("read timed out (30 s)")
        return []


def test_a_batch_prometheus_cannot_answer_in_time_is_checked_slo_by_slo() -> None:
    objectives = _objectives(3)
    prometheus = SlowOnBatches(objectives)
    assert SLOFiguresReader(prometheus).rejected_queries(objectives) == {}
    assert len(prometheus.queries) == 1 + 3 * 2


def test_a_prometheus_that_is_down_fails_the_check_instead_of_passing_it() -> None:
    reader = SLOFiguresReader(Failing(PrometheusUnreachableError("connection refused")))
    with pytest.raises(PrometheusUnreachableError):
        reader.rejected_queries(_objectives(5))


class EvaluatedRules(RecordingPrometheus):
    """Prometheus has evaluated the rules of ``evaluated`` (None: it serves no rules API)."""

    def __init__(
        self, objectives: list[Objective], evaluated: list[Objective] | None, **kwargs: bool
    ) -> None:
        super().__init__(objectives, **kwargs)
        self.evaluated = evaluated

    def evaluated_recording_rules(self, name: str) -> list[dict[str, str]] | None:
        self.queries.append(f"rules {name}")
        if self.evaluated is None:
            return None
        return [{"slo_namespace": o.namespace, "slo": o.name} for o in self.evaluated]


def test_idle_slos_whose_rules_were_evaluated_cost_no_query_of_their_own() -> None:
    idle = _objectives(300)
    prometheus = EvaluatedRules(idle, evaluated=idle, recorded=False)
    observations = SLOFiguresReader(prometheus).read(idle, NOW)
    assert len(prometheus.queries) == 2  # the recorded figures and the rules' evaluation
    observation = observations[("shop", "slo-299")]
    assert observation.problem is Health.OK
    assert observation.span_error_ratio is None  # no events: NoData once evaluated
    assert set(observation.window_error_ratios) == set(recorded_windows(idle[0]))


def test_a_read_in_the_past_does_not_take_the_rules_evaluated_now_for_then() -> None:
    """`slokeeper report` reads at a status' time: rules Prometheus lists as evaluated now may
    not have run then, so an SLO without recorded figures is read from its own queries."""
    idle = _objectives(3)
    prometheus = EvaluatedRules(idle, evaluated=idle, recorded=False)
    SLOFiguresReader(prometheus, rule_listing=False).read(idle, NOW)
    assert not any(q.startswith("rules ") for q in prometheus.queries)
    assert len(prometheus.queries) > 2, "each SLO read from its own queries"


def test_idle_slos_cost_no_more_than_busy_ones() -> None:
    objectives = _objectives(300)
    busy = RecordingPrometheus(objectives)
    SLOFiguresReader(busy).read(objectives, NOW)
    idle = EvaluatedRules(objectives, evaluated=objectives, recorded=False)
    SLOFiguresReader(idle).read(objectives, NOW)
    assert len(idle.queries) <= len(busy.queries)


def test_without_the_rules_api_direct_reads_per_cycle_are_bounded_and_take_turns() -> None:
    objectives = _objectives(40)
    prometheus = EvaluatedRules(objectives, evaluated=None, recorded=False)
    reader = SLOFiguresReader(prometheus, direct_reads_per_cycle=16)
    per_slo = len(recorded_windows(objectives[0])) + 2
    read_so_far: set[str] = set()
    for _ in range(3):
        prometheus.queries.clear()
        observations = reader.read(objectives, NOW)
        assert len(prometheus.queries) == 2 + 16 * per_slo  # never-read first, then the oldest
        assert len(observations) == 40
        read_so_far |= {k[1] for k, o in observations.items() if o.span_error_ratio is not None}
        waiting = [o for o in observations.values() if o.problem is Health.RULES_PENDING]
        assert len(waiting) == max(0, 40 - len(read_so_far)), "not read yet: RulesPending"
    assert len(read_so_far) == 40  # every SLO was read once in three cycles, and kept its figures
    prometheus.queries.clear()
    reader.read(objectives, NOW)
    assert len(prometheus.queries) == 2 + 16 * per_slo  # the turn starts again, still bounded


def test_a_changed_slo_is_read_again_first() -> None:
    objectives = _objectives(20)
    prometheus = EvaluatedRules(objectives, evaluated=None, recorded=False)
    reader = SLOFiguresReader(prometheus, direct_reads_per_cycle=1)
    reader.read(objectives, NOW)  # slo-0
    reader.read(objectives, NOW)  # slo-1
    changed = Objective("shop", "slo-0", "checkout", 99.0, RollingWindow(28 * DAY), INDICATOR)
    prometheus.queries.clear()
    observations = reader.read([changed, *objectives[1:]], NOW)
    assert any("e[" in query for query in prometheus.queries)
    assert observations[("shop", "slo-0")].span_error_ratio == pytest.approx(0.0005)


class Spoofed(RecordingPrometheus):
    """Recorded figures, plus the series ``extra`` that pass the rule-output matchers."""

    def __init__(self, objectives: list[Objective], extra: list[Sample]) -> None:
        super().__init__(objectives)
        self.extra = extra

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        answer = super().query(promql, at)
        return answer + self.extra if promql.startswith("{__name__=~") else answer


def _series(slo_namespace: str, slo: str, window: str, value: float, **more: str) -> Sample:
    labels = {"__name__": "slokeeper_slo_error_ratio", "slo_namespace": slo_namespace, "slo": slo}
    return Sample({**labels, "window": window, **more}, value)


def test_only_the_rules_own_output_is_asked_for() -> None:
    objectives = _objectives(2)
    prometheus = RecordingPrometheus(objectives)
    SLOFiguresReader(prometheus).read(objectives, NOW)
    assert all('job=""' in q and 'instance=""' in q for q in prometheus.queries)


def test_a_malformed_series_is_skipped_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    objectives = _objectives(2)
    forever = _series("shop", "slo-0", "forever", 0.9)
    prometheus = Spoofed(objectives, [forever, _series("", "x", "1h", 1.0)])
    reader = SLOFiguresReader(prometheus)
    for _ in range(3):
        observations = reader.read(objectives, NOW)
    assert observations[("shop", "slo-0")].span_error_ratio == pytest.approx(5 / 10_000)
    assert observations[("shop", "slo-0")].problem is Health.OK
    assert reader.series.skipped == 6
    logged = [r.getMessage() for r in caplog.records if "forever" in r.getMessage()]
    assert len(logged) == 1, logged


def test_a_series_of_another_namespace_is_not_read() -> None:
    objectives = _objectives(1)
    tenant = _series("shop", "slo-0", "1h", 0.9, namespace="tenant")
    reader = SLOFiguresReader(Spoofed(objectives, [tenant]))
    observation = reader.read(objectives, NOW)[("shop", "slo-0")]
    assert observation.window_error_ratios[3600] == pytest.approx(0.0005)
    assert reader.series.skipped == 1


def test_a_second_series_for_an_slo_makes_it_read_from_its_own_queries() -> None:
    objectives = _objectives(2)
    copy = _series("shop", "slo-1", "1h", 0.9, forged="yes")
    prometheus = Spoofed(objectives, [copy])
    observations = SLOFiguresReader(prometheus).read(objectives, NOW)
    assert not any("e[" in q for q in prometheus.queries[:2])
    direct = [q for q in prometheus.queries if "rate(e[" in q]
    assert len(direct) == len(recorded_windows(objectives[1])) + 1  # slo-1 only
    assert observations[("shop", "slo-1")].window_error_ratios[3600] is None  # its own: no data
    assert observations[("shop", "slo-0")].window_error_ratios[3600] == pytest.approx(0.0005)


def test_rules_first_listed_as_evaluated_are_not_taken_for_no_traffic() -> None:
    """The rules listing is read after the snapshot at ``now``: a group first evaluated in
    between has output the snapshot cannot show, which is not NoData. A cycle later it is."""
    objectives = _objectives(3)
    prometheus = EvaluatedRules(objectives, evaluated=[], recorded=False)
    reader = SLOFiguresReader(prometheus, direct_reads_per_cycle=0)
    waiting = reader.read(objectives, NOW)
    assert {o.problem for o in waiting.values()} == {Health.RULES_PENDING}
    prometheus.evaluated = objectives
    just_evaluated = reader.read(objectives, NOW)
    assert {o.problem for o in just_evaluated.values()} == {Health.RULES_PENDING}
    evaluated = reader.read(objectives, NOW)
    assert {(o.problem, o.span_error_ratio) for o in evaluated.values()} == {(Health.OK, None)}


def test_an_slo_first_listed_as_evaluated_keeps_its_direct_read_figures_meanwhile() -> None:
    objectives = _objectives(2)
    prometheus = EvaluatedRules(objectives, evaluated=[], recorded=False)
    reader = SLOFiguresReader(prometheus, direct_reads_per_cycle=2)
    read_directly = reader.read(objectives, NOW)
    prometheus.evaluated = objectives
    just_evaluated = reader.read(objectives, NOW)
    assert just_evaluated == read_directly
    assert [o.span_error_ratio for o in just_evaluated.values()] == pytest.approx([0.0005] * 2)
