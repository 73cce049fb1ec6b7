"""When the SLO loop writes a status (issue 20): only when a shown figure changes at the precision
it is shown, or a fact (a condition, an alert, the policy action) changes; figures alone are
written within a write budget, stalest first, while a changed fact is always written at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from invalid_resources import sample
from slokeeper.loops.slo.loop import FIGURES_DEFERRED, SLOLoop
from slokeeper.loops.slo.record import Key, SLORecord, slo_record
from slokeeper.slo.evaluation import Health, Observation
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import RuleGroup, recorded_windows

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
NAMES = ("checkout", "payments", "search")


@dataclass
class Traffic:
    """Every SLO's error ratio, over every window, as Prometheus would answer."""

    ratio: float = 0.0005
    rules_evaluated: bool = True

    def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Any, Observation]:
        if not self.rules_evaluated:
            return {
                (o.namespace, o.name): Observation(problem=Health.RULES_PENDING) for o in objectives
            }
        return {
            (o.namespace, o.name): Observation(
                {w: self.ratio for w in recorded_windows(o)}, self.ratio, 30.0
            )
            for o in objectives
        }

    def rejected_queries(self, objectives: Sequence[Objective]) -> dict[Key, str]:
        return {}

    def error_ratio_between(self, objective: Objective, start: datetime, end: datetime) -> float:
        return self.ratio


@dataclass
class Cluster:
    statuses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    kind: str = "ConfigMap"

    def write(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.statuses[(namespace, name)] = status
        self.writes.append(name)

    def record(self, about: Any, reason: str, message: str, warning: bool = False) -> None:
        pass

    def apply(self, objective: Objective, group: RuleGroup, owner: Any) -> str:
        return self.kind

    def records(self, generation: int = 1) -> list[SLORecord]:
        body = sample("slo-ratio.yaml")
        return [
            slo_record(
                namespace="default",
                name=name,
                uid=f"uid-{name}",
                generation=generation,
                spec=body["spec"],
                status=self.statuses.get(("default", name), {}),
            )
            for name in NAMES
        ]


def _cycles(traffic: Traffic, cluster: Cluster, loop: SLOLoop, *minutes: int) -> list[list[str]]:
    """The SLOs written in each cycle, one cycle at each of ``minutes`` past NOW."""
    written = []
    for minute in minutes:
        cluster.writes.clear()
        loop.cycle(cluster.records(), NOW + timedelta(minutes=minute))
        written.append(sorted(cluster.writes))
    return written


def _loop(traffic: Traffic, cluster: Cluster, per_second: float = 5.0) -> SLOLoop:
    return SLOLoop(
        traffic,
        cluster,
        cluster,
        cluster,
        lambda kind, ns, name, uid: name,
        figure_writes_per_second=per_second,
    )


def test_a_figure_moving_below_its_shown_precision_writes_nothing() -> None:
    traffic, cluster = Traffic(), Cluster()
    loop = _loop(traffic, cluster)
    _cycles(traffic, cluster, loop, 0)
    # 0.0005 → 0.00050004: the SLI (99.950 %), budget (50.0 %) and burn rates (0.5x) read the same.
    traffic.ratio = 0.00050004
    assert _cycles(traffic, cluster, loop, 1, 2) == [[], []]
    assert cluster.statuses[("default", "checkout")]["sliRatio"] == 0.9995


def test_a_shown_figure_that_moves_is_written_stalest_first_within_the_budget() -> None:
    traffic, cluster = Traffic(), Cluster()
    loop = _loop(traffic, cluster, per_second=1 / 60)  # one figure refresh a minute
    _cycles(traffic, cluster, loop, 0)
    traffic.ratio = 0.0006  # the SLI reads 99.940 %, the budget 40.0 %: figures only
    first, second, third, fourth = _cycles(traffic, cluster, loop, 1, 2, 3, 4)
    assert [len(first), len(second), len(third)] == [1, 1, 1]
    assert sorted(first + second + third) == sorted(NAMES)  # each once: stalest first
    assert fourth == []
    shown = {name: cluster.statuses[("default", name)] for name in NAMES}
    assert {status["errorBudgetRemainingRatio"] for status in shown.values()} == {0.4}


def test_a_deferred_refresh_is_counted() -> None:
    traffic, cluster = Traffic(), Cluster()
    loop = _loop(traffic, cluster, per_second=1 / 60)
    loop.cycle(cluster.records(), NOW)
    traffic.ratio = 0.0006
    report = loop.cycle(cluster.records(), NOW + timedelta(minutes=1))
    assert (report.status_writes, report.problems.get(FIGURES_DEFERRED)) == (1, 2)


def test_a_changed_condition_is_always_written_whatever_the_budget() -> None:
    traffic, cluster = Traffic(), Cluster()
    loop = _loop(traffic, cluster, per_second=1 / 60)
    _cycles(traffic, cluster, loop, 0)
    traffic.ratio = 0.02  # 20x burn: the budget is spent, the page alert fires, changes freeze
    (written,) = _cycles(traffic, cluster, loop, 1)
    assert written == sorted(NAMES)
    for name in NAMES:
        status = cluster.statuses[("default", name)]
        exhausted = next(c for c in status["conditions"] if c["type"] == "BudgetExhausted")
        assert (exhausted["status"], status["policyAction"]) == ("True", "freeze")
        assert status["firingAlerts"]


def test_a_new_slo_awaiting_its_rules_is_shown_at_once_alone_and_within_the_budget_in_bulk() -> (
    None
):
    waiting = Traffic(rules_evaluated=False)
    alone = Cluster()
    _loop(waiting, alone).cycle(alone.records()[:1], NOW)
    assert alone.writes == ["checkout"]
    ready = next(
        c for c in alone.statuses[("default", "checkout")]["conditions"] if c["type"] == "Ready"
    )
    assert (ready["status"], ready["reason"]) == ("False", "RulesPending")
    # Three applied at once with room for one write: one is shown pending, the others wait their
    # turn (their first figures will be news enough), counted as deferred.
    bulk = Cluster()
    report = _loop(waiting, bulk, per_second=1 / 30).cycle(bulk.records(), NOW)
    assert (len(bulk.writes), report.problems.get(FIGURES_DEFERRED)) == (1, 2)
    # Evaluated a cycle later: every one's first figures are facts, written at once.
    loop = _loop(Traffic(), bulk, per_second=1 / 30)
    loop.cycle(bulk.records(), NOW + timedelta(minutes=1))
    assert sorted(bulk.statuses) == [("default", name) for name in sorted(NAMES)]


def test_an_edited_slo_awaiting_its_new_rules_says_so_at_once() -> None:
    traffic, cluster = Traffic(), Cluster()
    loop = _loop(traffic, cluster, per_second=1 / 60)
    _cycles(traffic, cluster, loop, 0)
    traffic.rules_evaluated = False
    cluster.writes.clear()
    loop.cycle(cluster.records(generation=2), NOW + timedelta(minutes=1))
    assert sorted(cluster.writes) == sorted(NAMES)
