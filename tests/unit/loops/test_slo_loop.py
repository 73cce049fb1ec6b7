"""The SLO loop writes what changed and nothing else, and survives its collaborators' failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from invalid_resources import sample
from slokeeper.loops.slo_loop import CycleReport, SLOLoop, SLORecord, next_delay, slo_record
from slokeeper.slo.evaluation import Health, Observation
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import RuleGroup, recorded_windows

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@dataclass
class Figures:
    ratio: float = 0.0005
    rejected: str | None = None
    reads: int = 0

    def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Any, Observation]:
        self.reads += 1
        return {
            (o.namespace, o.name): Observation(
                {w: self.ratio for w in recorded_windows(o)}, self.ratio, 30.0
            )
            for o in objectives
        }

    def rejected_query(self, objective: Objective) -> str | None:
        return self.rejected


@dataclass
class Cluster:
    """Stands in for the API server: keeps what was written, as the watch would report it."""

    statuses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    kind: str = "ConfigMap"

    def write(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.statuses[(namespace, name)] = status

    def record(self, about: Any, reason: str, message: str, warning: bool = False) -> None:
        self.events.append(reason)

    def apply(self, objective: Objective, group: RuleGroup, owner: Any) -> str:
        self.rules.append(objective.name)
        return self.kind


def _record(cluster: Cluster, generation: int = 1) -> SLORecord:
    body = sample("slo-ratio.yaml")
    key = (body["metadata"]["namespace"], body["metadata"]["name"])
    return slo_record(
        namespace=key[0],
        name=key[1],
        uid="uid-1",
        generation=generation,
        spec=body["spec"],
        status=cluster.statuses.get(key, {}),
    )


def _loop(figures: Figures, cluster: Cluster) -> SLOLoop:
    return SLOLoop(figures, cluster, cluster, cluster, lambda kind, ns, name, uid: (kind, ns, name))


def test_a_quiet_cycle_writes_nothing() -> None:
    figures, cluster = Figures(), Cluster()
    loop = _loop(figures, cluster)
    first = loop.cycle([_record(cluster)], NOW)
    assert (first.status_writes, first.rules_written) == (1, 1)
    assert cluster.statuses[("default", "checkout-availability")]["sliRatio"] == 0.9995
    second = loop.cycle([_record(cluster)], NOW.replace(minute=1))
    assert (second.status_writes, second.rules_written, second.events) == (0, 0, 0)


def test_a_changed_figure_is_written_with_its_event() -> None:
    figures, cluster = Figures(), Cluster()
    loop = _loop(figures, cluster)
    loop.cycle([_record(cluster)], NOW)
    figures.ratio = 0.02  # a burst: 20x burn, budget overspent
    report = loop.cycle([_record(cluster)], NOW)
    assert report.status_writes == 1
    status = cluster.statuses[("default", "checkout-availability")]
    assert status["policyAction"] == "freeze"
    assert {"BudgetPolicyFreeze", "BurnRatePageFiring"} <= set(cluster.events)


def test_a_restarted_operator_neither_rewrites_rules_nor_repeats_events() -> None:
    cluster = Cluster()
    _loop(Figures(), cluster).cycle([_record(cluster)], NOW)
    events_before = list(cluster.events)
    restarted = _loop(Figures(), cluster)
    report = restarted.cycle([_record(cluster)], NOW)
    assert (report.rules_written, report.status_writes, report.events) == (0, 0, 0)
    assert cluster.events == events_before


def test_a_new_generation_gets_new_rules() -> None:
    cluster = Cluster()
    loop = _loop(Figures(), cluster)
    loop.cycle([_record(cluster, generation=1)], NOW)
    loop.cycle([_record(cluster, generation=2)], NOW)
    assert cluster.rules == ["checkout-availability", "checkout-availability"]


def test_rules_are_not_written_for_a_query_prometheus_rejects() -> None:
    cluster = Cluster()
    loop = _loop(Figures(rejected="parse error"), cluster)
    loop.cycle([_record(cluster)], NOW)
    loop.cycle([_record(cluster)], NOW)
    assert cluster.rules == []


def test_an_unreachable_prometheus_backs_off_up_to_five_minutes() -> None:
    down = CycleReport(slos=3, problems={Health.PROMETHEUS_UNREACHABLE.value: 3})
    delays, failures = [], 0
    for _ in range(8):
        delay, failures = next_delay(30, down, failures)
        delays.append(delay)
    assert delays[:3] == [60, 120, 240]
    assert max(delays) == 300
    assert next_delay(30, CycleReport(slos=3), failures) == (30, 0)


def test_an_empty_first_cycle_looks_again_soon() -> None:
    assert next_delay(30, CycleReport(slos=0), 0) == (5, 0)


def test_a_spec_the_models_refuse_is_reported_not_evaluated() -> None:
    cluster = Cluster()
    body = sample("slo-calendar.yaml")
    body["spec"]["window"]["timeZone"] = "Mars/Olympus_Mons"
    record = slo_record(
        namespace="default", name="monthly", uid="u", generation=3, spec=body["spec"], status={}
    )
    assert record.objective is None
    report = _loop(Figures(), cluster).cycle([record], NOW)
    ready = cluster.statuses[("default", "monthly")]["conditions"][0]
    assert (ready["reason"], ready["status"]) == ("InvalidSpec", "False")
    assert "Mars/Olympus_Mons" in ready["message"]
    assert cluster.rules == []
    assert report.problems == {"InvalidSpec": 1}
