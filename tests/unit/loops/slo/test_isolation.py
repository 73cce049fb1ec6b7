"""One tenant's SLO never stops another's (issue 22, point 8): whatever specs share a cycle with a
normal SLO, hostile ones included (zero, sub-second, NaN and enormous windows, targets of 0 or
100 %, reserved label names, broken templates), the normal SLO is evaluated and its rules
written, and every other SLO ends the cycle with figures or a Ready=False reason of its own."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invalid_resources import sample
from slokeeper.loops.slo.loop import SLOLoop
from slokeeper.loops.slo.record import Key, SLORecord, slo_record
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.evaluation import Observation
from slokeeper.slo.objective import (
    Alerting,
    AlertKind,
    BurnRateWindow,
    ForecastAlert,
    Objective,
    RollingWindow,
)
from slokeeper.slo.rule_check import group_problems
from slokeeper.slo.rules import RuleGroup, recorded_windows

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
NORMAL = ("default", "checkout-availability")
FAILED_REASONS = {"InvalidSpec", "EvaluationFailed", "RulesInvalid"}


@dataclass
class Reader:
    """Reads like SLOFiguresReader: it computes each SLO's windows and span for the whole batch
    (so it raises where the real one would), answering with the figures it was given."""

    ratio: float = 0.0005
    reads: int = 0

    def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Any, Observation]:
        self.reads += 1
        answers = {}
        for objective in objectives:
            windows = recorded_windows(objective)
            measurement_span(objective.window, now)
            answers[(objective.namespace, objective.name)] = Observation(
                dict.fromkeys(windows, self.ratio), self.ratio, 10.0
            )
        return answers

    def rejected_queries(self, objectives: Sequence[Objective]) -> dict[Key, str]:
        return {}

    def error_ratio_between(
        self, objective: Objective, start: datetime, end: datetime
    ) -> float | None:
        return self.ratio


@dataclass
class Cluster:
    statuses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, RuleGroup] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "ConfigMap"

    def write(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.statuses[(namespace, name)] = status

    def record(self, about: Any, reason: str, message: str, warning: bool = False) -> None:
        self.events.append((reason, message))

    def apply(self, objective: Objective, group: RuleGroup, owner: Any) -> str:
        self.groups[objective.name] = group
        return self.kind


def _loop(reader: Reader, cluster: Cluster) -> SLOLoop:
    return SLOLoop(reader, cluster, cluster, cluster, lambda kind, ns, name, uid: (ns, name))


def _normal() -> SLORecord:
    body = sample("slo-ratio.yaml")
    return slo_record(
        namespace=NORMAL[0], name=NORMAL[1], uid="u", generation=1, spec=body["spec"], status={}
    )


def _ready(cluster: Cluster, key: tuple[str, str]) -> dict[str, Any]:
    status = cluster.statuses[key]
    ready: dict[str, Any] = next(c for c in status["conditions"] if c["type"] == "Ready")
    return ready


# Seconds a hostile spec may carry once past the models: none, negative, sub-second, NaN, huge.
seconds = st.one_of(
    st.sampled_from([0.0, -60.0, 0.001, 0.5, 1.0, 59.0, 3600.0, 28 * 86400.0, 1e12, 1e300]),
    st.sampled_from([math.nan, math.inf]),
    st.floats(min_value=-1e6, max_value=1e13, allow_nan=False),
)
targets = st.one_of(
    st.sampled_from([0.0, 100.0, 150.0, -1.0, 99.9, 1e-300, math.nan, math.inf]),
    st.floats(allow_nan=False, allow_infinity=False),
)
names = st.sampled_from(["", "__name__", "team", "a b", "slo", "x\udcff"])
texts = st.sampled_from(["ok", "{{ $labels.slo", "{{ if }}", "{{ nope }}", "{{ end }}", "\udcff"])


@st.composite
def hostile_objectives(draw: st.DrawFn, index: int) -> Objective:
    base = _normal().objective
    assert base is not None
    rows = draw(
        st.lists(
            st.builds(
                BurnRateWindow,
                st.sampled_from(list(AlertKind)),
                long_seconds=seconds,
                short_seconds=seconds,
                burn_rate=st.floats(allow_nan=True, allow_infinity=True),
            ),
            max_size=3,
        )
    )
    forecast = ForecastAlert(
        enabled=draw(st.booleans()),
        window_seconds=draw(st.one_of(st.none(), seconds)),
        for_seconds=draw(seconds),
    )
    alerting = Alerting(
        enabled=draw(st.booleans()),
        labels=tuple(draw(st.dictionaries(names, texts, max_size=2)).items()),
        annotations=tuple(draw(st.dictionaries(names, texts, max_size=2)).items()),
        burn_rates=tuple(rows) or None,
        forecast=forecast,
    )
    return replace(
        base,
        namespace=f"tenant-{index}",
        target_percent=draw(targets),
        window=RollingWindow(draw(seconds)),
        alerting=alerting,
    )


def _bypassing(objective: Objective) -> SLORecord:
    """An SLO the models never saw: stored before the CRD had its bounds, or a bug of ours."""
    return SLORecord(objective.namespace, objective.name, "u", 1, objective, None, {})


raw_specs = st.fixed_dictionaries(
    {
        "window": st.sampled_from(
            [{"rolling": w} for w in ("0s", "500ms", "10000y", "1m", "28d")] + [{}]
        ),
        "target": targets.filter(math.isfinite),
        "alerting": st.fixed_dictionaries(
            {"labels": st.dictionaries(names.filter(lambda n: "\udcff" not in n), st.just("x"))}
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hostile=st.lists(st.integers(0, 10**6), min_size=1, max_size=4, unique=True).flatmap(
        lambda indexes: st.tuples(*(hostile_objectives(i) for i in indexes))
    ),
    specs=st.lists(raw_specs, max_size=2),
    ratio=st.one_of(st.floats(), st.sampled_from([0.0, 1.0, 2.0, -1.0])),
    normal_first=st.booleans(),
)
def test_the_normal_slo_is_always_evaluated_whatever_shares_its_cycle(
    hostile: tuple[Objective, ...],
    specs: list[dict[str, Any]],
    ratio: float,
    normal_first: bool,
) -> None:
    from_models = []
    for index, spec in enumerate(specs):
        body = sample("slo-ratio.yaml")
        body["spec"].update(spec)
        from_models.append(
            slo_record(
                namespace=f"raw-{index}",
                name="raw",
                uid="u",
                generation=1,
                spec=body["spec"],
                status={},
            )
        )
    others = [_bypassing(o) for o in hostile] + from_models
    records = [_normal(), *others] if normal_first else [*others, _normal()]
    reader, cluster = Reader(ratio=ratio), Cluster()

    report = _loop(reader, cluster).cycle(records, NOW)

    assert NORMAL in report.figures
    assert _ready(cluster, NORMAL)["reason"] in {"Evaluated", "NoData"}
    assert "checkout-availability" in cluster.groups
    for record in others:
        ready = _ready(cluster, record.key)  # every SLO hears how its cycle went
        if record.key not in report.figures:
            assert ready["status"] == "False", ready
            assert ready["reason"] in FAILED_REASONS, ready
            assert "\n" not in ready["message"]
    for group in cluster.groups.values():
        assert group_problems(group) == ()  # nothing Prometheus would refuse was written


def test_a_slo_whose_maths_fails_gets_its_own_condition_and_event_once() -> None:
    normal = _normal()
    assert normal.objective is not None
    broken = _bypassing(replace(normal.objective, namespace="tenant-a", target_percent=100.0))
    reader, cluster = Reader(), Cluster()
    loop = _loop(reader, cluster)
    loop.cycle([broken, normal], NOW)
    ready = _ready(cluster, broken.key)
    assert (ready["status"], ready["reason"]) == ("False", "EvaluationFailed")
    assert ready["message"].startswith("ValueError: the allowed error ratio must be positive")
    assert [reason for reason, _ in cluster.events] == ["EvaluationFailed"]
    assert _ready(cluster, NORMAL)["reason"] == "Evaluated"
    # The next cycle, with the status as the watch reports it, repeats neither write nor Event.
    again = [replace(r, status=cluster.statuses[r.key]) for r in (broken, normal)]
    report = loop.cycle(again, NOW)
    assert report.status_writes == 0
    assert len(cluster.events) == 1


@pytest.mark.parametrize(
    ("labels", "annotations", "expected"),
    [
        ((("__name__", "up"),), (), "invalid label name '__name__'"),
        ((("", "x"),), (), "invalid label name ''"),
        ((("team", "{{ $labels.slo"),), (), "label 'team': template: unclosed action"),
        ((), (("summary", "{{ if }}"),), "annotation 'summary': template: missing value for if"),
    ],
)
def test_rules_prometheus_would_refuse_are_not_written_and_the_slo_says_why(
    labels: tuple[tuple[str, str], ...],
    annotations: tuple[tuple[str, str], ...],
    expected: str,
) -> None:
    normal = _normal()
    assert normal.objective is not None
    alerting = replace(normal.objective.alerting, labels=labels, annotations=annotations)
    hostile = _bypassing(
        replace(normal.objective, namespace="tenant-b", name="hostile", alerting=alerting)
    )
    reader, cluster = Reader(), Cluster()
    loop = _loop(reader, cluster)
    loop.cycle([hostile, normal], NOW)
    assert set(cluster.groups) == {"checkout-availability"}
    ready = _ready(cluster, hostile.key)
    assert (ready["status"], ready["reason"]) == ("False", "RulesInvalid")
    assert expected in ready["message"], ready["message"]
    assert ("RulesInvalid", ready["message"]) in cluster.events
    # Not evaluated either (it has no recorded series to read), cycle after cycle.
    report = loop.cycle([replace(hostile, status=cluster.statuses[hostile.key]), normal], NOW)
    assert hostile.key not in report.figures
    assert report.problems.get("RulesInvalid") == 1
    assert set(cluster.groups) == {"checkout-availability"}


def test_a_reader_that_fails_on_one_slo_still_reads_the_others() -> None:
    """Should the reader raise on one SLO for a reason no pre-check foresaw, the batch is halved
    until that SLO is found: it reports the error, every other SLO its figures."""

    @dataclass
    class Picky(Reader):
        def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Any, Observation]:
            if any(o.namespace == "tenant-3" for o in objectives):
                self.reads += 1
                raise OverflowError("cannot convert float infinity to integer")
            return super().read(objectives, now)

    normal = _normal()
    assert normal.objective is not None
    records = [_bypassing(replace(normal.objective, namespace=f"tenant-{i}")) for i in range(8)] + [
        normal
    ]
    reader, cluster = Picky(), Cluster()
    report = _loop(reader, cluster).cycle(records, NOW)
    assert set(report.figures) == {r.key for r in records} - {("tenant-3", NORMAL[1])}
    ready = _ready(cluster, ("tenant-3", NORMAL[1]))
    assert ready["reason"] == "EvaluationFailed"
    assert ready["message"] == "OverflowError: cannot convert float infinity to integer"
    assert reader.reads <= 2 * math.ceil(math.log2(len(records))) + 1
