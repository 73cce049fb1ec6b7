"""The SLO loop writes what changed and nothing else, and survives its collaborators' failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from invalid_resources import sample
from slokeeper.loops.slo.loop import CycleReport, SLOLoop, next_delay
from slokeeper.loops.slo.maintenance import with_shared_windows
from slokeeper.loops.slo.record import Key, SLORecord, slo_record
from slokeeper.slo.evaluation import Health, Observation
from slokeeper.slo.maintenance import SharedWindow, Silence, SilenceRequest
from slokeeper.slo.objective import MaintenanceWindow, Objective
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

    def rejected_queries(self, objectives: Sequence[Objective]) -> dict[Key, str]:
        rejected = self.rejected
        return {} if rejected is None else {(o.namespace, o.name): rejected for o in objectives}

    def error_ratio_between(
        self, objective: Objective, start: datetime, end: datetime
    ) -> float | None:
        return self.ratio


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


def _record(
    cluster: Cluster, generation: int = 1, maintenance: list[dict[str, str]] | None = None
) -> SLORecord:
    body = sample("slo-ratio.yaml")
    if maintenance is not None:
        body["spec"]["maintenance"] = maintenance
    key = (body["metadata"]["namespace"], body["metadata"]["name"])
    return slo_record(
        namespace=key[0],
        name=key[1],
        uid="uid-1",
        generation=generation,
        spec=body["spec"],
        status=cluster.statuses.get(key, {}),
    )


def _loop(figures: Figures, cluster: Cluster, silences: Any = None) -> SLOLoop:
    return SLOLoop(
        figures,
        cluster,
        cluster,
        cluster,
        lambda kind, ns, name, uid: (kind, ns, name),
        silences=silences,
    )


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


def test_rules_prometheus_has_yet_to_evaluate_are_looked_at_again_soon_for_two_minutes() -> None:
    pending = {Health.RULES_PENDING.value: 4}
    just_written = CycleReport(slos=5, rules_written_ago=3.0, problems=pending)
    assert next_delay(30, just_written, 0) == (10, 0)
    assert next_delay(5, just_written, 0) == (5, 0)
    # Still unevaluated long after they were written: the rule loader's problem, at the interval.
    assert next_delay(30, CycleReport(slos=5, rules_written_ago=150.0, problems=pending), 0) == (
        30,
        0,
    )
    assert next_delay(30, CycleReport(slos=5, rules_written_ago=3.0), 0) == (30, 0)


def test_a_cycle_says_how_long_ago_it_wrote_rules() -> None:
    figures, cluster = Figures(), Cluster()
    loop = _loop(figures, cluster)
    first = loop.cycle([_record(cluster)], NOW)
    assert first.rules_written == 1
    assert first.rules_written_ago is not None
    assert first.rules_written_ago < 1
    assert _loop(figures, cluster).cycle([], NOW).rules_written_ago is None


def test_an_slo_applied_or_edited_since_the_last_cycle_is_new_work() -> None:
    figures, cluster = Figures(), Cluster()
    loop = _loop(figures, cluster)
    assert loop.has_new_work([_record(cluster)])
    loop.cycle([_record(cluster)], NOW)
    assert not loop.has_new_work([_record(cluster)])
    assert not loop.has_new_work([])  # one deleted: nothing to do for it
    assert loop.has_new_work([_record(cluster, generation=2)])


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


@dataclass
class Alertmanager:
    """Stands in for Alertmanager's silence API."""

    silences: dict[str, Silence] = field(default_factory=dict)
    requests: dict[str, SilenceRequest] = field(default_factory=dict)
    down: bool = False

    def list(self) -> list[Silence]:
        if self.down:
            raise ConnectionError("Alertmanager at http://am:9093 did not answer")
        return list(self.silences.values())

    def create(self, request: SilenceRequest) -> str:
        silence_id = f"s{len(self.silences) + 1}"
        self.silences[silence_id] = Silence(
            silence_id, request.comment, request.created_by, "pending"
        )
        self.requests[silence_id] = request
        return silence_id

    def expire(self, silence_id: str) -> None:
        old = self.silences[silence_id]
        self.silences[silence_id] = Silence(old.id, old.comment, old.created_by, "expired")

    def live(self) -> list[str]:
        return [s.id for s in self.silences.values() if s.live]


WINDOW = {"start": "2026-11-25T13:00:00Z", "end": "2026-11-25T14:00:00Z", "reason": "CHG-42 db"}
KEY = ("default", "checkout-availability")


def test_a_maintenance_window_is_silenced_ahead_once_and_its_cost_reported() -> None:
    figures, cluster, alertmanager = Figures(), Cluster(), Alertmanager()
    loop = _loop(figures, cluster, alertmanager)
    loop.cycle([_record(cluster, maintenance=[WINDOW])], NOW)
    (scheduled,) = cluster.statuses[KEY]["maintenance"]
    assert scheduled["state"] == "Scheduled"
    assert scheduled["silenceId"] == "s1"
    request = alertmanager.requests["s1"]
    assert {(m.name, m.value, m.is_regex) for m in request.matchers} == {
        ("slo", "checkout-availability", False),
        ("slo_namespace", "default", False),
        ("slokeeper_alert", "page|ticket|forecast", True),
    }
    assert request.starts_at == datetime(2026, 11, 25, 13, tzinfo=UTC)
    assert request.comment.startswith("CHG-42 db [slokeeper maintenance default/checkout-")

    # Restarted, the operator finds its silence instead of making another.
    restarted = _loop(figures, cluster, alertmanager)
    restarted.cycle([_record(cluster, maintenance=[WINDOW])], NOW.replace(minute=5))
    assert alertmanager.live() == ["s1"]

    during = NOW.replace(hour=13, minute=30)
    restarted.cycle([_record(cluster, maintenance=[WINDOW])], during)
    status = cluster.statuses[KEY]
    (active,) = status["maintenance"]
    assert active["state"] == "Active"
    # Half an hour at 0.5x of a 28-day budget.
    assert active["budgetSpentRatio"] == pytest.approx(0.5 * 1800 / (28 * 86400), rel=0.01)
    condition = next(c for c in status["conditions"] if c["type"] == "InMaintenance")
    assert condition["status"] == "True"
    assert condition["message"] == "Until 2026-11-25T14:00:00+00:00: CHG-42 db"
    assert "MaintenanceStarted" in cluster.events

    restarted.cycle([_record(cluster, maintenance=[WINDOW])], NOW.replace(hour=15))
    (ended,) = cluster.statuses[KEY]["maintenance"]
    assert ended["state"] == "Ended"
    assert ended["budgetSpentRatio"] == pytest.approx(0.5 * 3600 / (28 * 86400), rel=0.01)
    assert cluster.events.count("MaintenanceEnded") == 1


def test_a_window_taken_out_of_the_spec_has_its_silence_expired() -> None:
    figures, cluster, alertmanager = Figures(), Cluster(), Alertmanager()
    loop = _loop(figures, cluster, alertmanager)
    loop.cycle([_record(cluster, maintenance=[WINDOW])], NOW)
    assert alertmanager.live() == ["s1"]
    moved = {**WINDOW, "start": "2026-11-25T13:30:00Z"}
    loop.cycle([_record(cluster, maintenance=[moved])], NOW)
    assert alertmanager.live() == ["s2"]
    loop.cycle([_record(cluster, maintenance=[])], NOW)
    assert alertmanager.live() == []
    assert not cluster.statuses[KEY].get("maintenance")


def test_an_unreachable_alertmanager_is_reported_and_the_slo_still_evaluated() -> None:
    figures, cluster = Figures(), Cluster()
    loop = _loop(figures, cluster, Alertmanager(down=True))
    report = loop.cycle([_record(cluster, maintenance=[WINDOW])], NOW.replace(hour=13, minute=1))
    status = cluster.statuses[KEY]
    (entry,) = status["maintenance"]
    assert entry["state"] == "Active"
    assert "did not answer" in entry["silenceProblem"]
    assert status["sliRatio"] == 0.9995
    assert report.status_writes == 1
    assert "MaintenanceStarted" in cluster.events


def test_without_an_alertmanager_a_window_says_it_is_not_silenced() -> None:
    figures, cluster = Figures(), Cluster()
    _loop(figures, cluster).cycle([_record(cluster, maintenance=[WINDOW])], NOW)
    (entry,) = cluster.statuses[KEY]["maintenance"]
    assert "--alertmanager-url" in entry["silenceProblem"]


def test_a_namespace_window_is_merged_into_the_slos_it_selects() -> None:
    figures, cluster, alertmanager = Figures(), Cluster(), Alertmanager()
    shared = SharedWindow(
        "db-upgrade",
        MaintenanceWindow(
            datetime(2026, 11, 25, 13, tzinfo=UTC), datetime(2026, 11, 25, 14, tzinfo=UTC), "CHG-7"
        ),
    )
    (record,) = with_shared_windows([_record(cluster)], {"default": [shared]})
    _loop(figures, cluster, alertmanager).cycle([record], NOW)
    (entry,) = cluster.statuses[KEY]["maintenance"]
    assert entry["reason"] == "MaintenanceWindow db-upgrade: CHG-7"
    assert entry["silenceId"] == "s1"
    (other,) = with_shared_windows([_record(cluster)], {"elsewhere": [shared]})
    assert other.objective is not None
    assert other.objective.maintenance == ()
