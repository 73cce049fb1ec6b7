"""The SLO loop: one evaluation cycle for every SLO the operator knows.

Each cycle: write rules for SLOs whose spec changed, read every SLO's figures from Prometheus in
a few batched queries, compute status and Events in the core, and write status only where what an
SRE sees has changed. The loop knows its collaborators only by the small ports declared here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.loops.conditions import ConditionWriter
from slokeeper.loops.slo.isolation import (
    EVALUATION_FAILED,
    one_line,
    read_isolated,
    span_problem,
    spec_problem,
)
from slokeeper.loops.slo.maintenance import (
    SilencesPort,
    SilenceView,
    maintenance_events,
    sync_silences,
)
from slokeeper.loops.slo.record import Key, SLORecord
from slokeeper.loops.slo.status import (
    Change,
    SLOStatusInputs,
    figures_from_status,
    slo_status,
    status_change,
    visible,
)
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.evaluation import (
    Event,
    Figures,
    Health,
    Observation,
    evaluate,
    events_between,
)
from slokeeper.slo.objective import Objective
from slokeeper.slo.rule_check import group_problems
from slokeeper.slo.rules import RuleGroup, rule_group
from slokeeper.slo.rules_object import RulesObjectTakenError

log = logging.getLogger(__name__)


class FiguresSource(Protocol):
    def read(self, objectives: Sequence[Objective], now: datetime) -> dict[Key, Observation]: ...

    def rejected_queries(self, objectives: Sequence[Objective]) -> dict[Key, str]: ...

    def error_ratio_between(
        self, objective: Objective, start: datetime, end: datetime
    ) -> float | None: ...


class StatusSink(Protocol):
    def write(self, namespace: str, name: str, status: dict[str, Any]) -> None: ...


class EventSink(Protocol):
    def record(self, about: Any, reason: str, message: str, warning: bool = False) -> None: ...


class RulesSink(Protocol):
    @property
    def kind(self) -> str:
        """PrometheusRule or ConfigMap: what ``apply`` writes in this cluster."""
        ...

    def apply(self, objective: Objective, group: RuleGroup, owner: Any) -> str: ...


class OwnerFactory(Protocol):
    def __call__(self, kind: str, namespace: str, name: str, uid: str) -> Any: ...


@dataclass
class CycleReport:
    slos: int = 0
    status_writes: int = 0
    rules_written: int = 0
    events: int = 0
    seconds: float = 0.0
    # Since this loop last wrote rules (None: never), as the cycle ended.
    rules_written_ago: float | None = None
    problems: dict[str, int] = field(default_factory=dict)
    figures: dict[Key, Figures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, problem: str) -> None:
        with self._lock:
            self.problems[problem] = self.problems.get(problem, 0) + 1

    def tally(self, *, status_writes: int = 0, rules_written: int = 0, events: int = 0) -> None:
        with self._lock:
            self.status_writes += status_writes
            self.rules_written += rules_written
            self.events += events


MAX_BACKOFF_SECONDS = 300.0
# Status writes a cycle may spend on figures alone, per second since the previous cycle: at
# 10,000 noisy SLOs every short-window burn rate moves every cycle, and the API server (and kopf,
# which gets each write back as a watch event) should not take 10,000 writes per cycle for them.
FIGURE_WRITES_PER_SECOND = 5.0
FIRST_CYCLE_SECONDS = 30.0
# What a deferred refresh of figures is counted as in the cycle's problems (and the metric).
FIGURES_DEFERRED = "FiguresDeferred"

# While Prometheus has yet to evaluate rules written in the last two minutes, the next cycle
# comes this soon (or at the interval, if sooner): a new SLO then shows its first figures within
# seconds of their first evaluation, not an interval later. Rules unevaluated for longer point at
# the rule loader (docs/troubleshooting.md, RulesPending), which a faster loop would not mend.
PENDING_RECHECK_SECONDS = 10.0
PENDING_RECHECK_FOR_SECONDS = 120.0

Pending = tuple[SLORecord, dict[str, Any], Figures]


def next_delay(interval: float, report: CycleReport, failed_before: int) -> tuple[float, int]:
    """Seconds until the next cycle, and the count of consecutive cycles Prometheus failed.

    While Prometheus does not answer, cycles back off (doubling, at most five minutes) so a
    struggling Prometheus is not hammered by every replica of every operator at once.
    """
    if report.slos == 0:
        # At start-up the watch may not have listed the SLOs yet: look again soon.
        return min(interval, 5.0), failed_before
    unreachable = report.problems.get(Health.PROMETHEUS_UNREACHABLE.value, 0) > 0
    if not unreachable:
        awaiting_rules = (
            report.problems.get(Health.RULES_PENDING.value, 0) > 0
            and report.rules_written_ago is not None
            and report.rules_written_ago < PENDING_RECHECK_FOR_SECONDS
        )
        return (min(interval, PENDING_RECHECK_SECONDS) if awaiting_rules else interval), 0
    failed = failed_before + 1
    return min(MAX_BACKOFF_SECONDS, interval * 2 ** min(failed, 10)), failed


class SLOLoop:
    def __init__(
        self,
        figures: FiguresSource,
        status: StatusSink,
        events: EventSink,
        rules: RulesSink,
        owner: OwnerFactory,
        *,
        silences: SilencesPort | None = None,
        parallelism: int = 8,
        figure_writes_per_second: float = FIGURE_WRITES_PER_SECOND,
    ) -> None:
        self.parallelism = parallelism
        self.figure_writes_per_second = figure_writes_per_second
        self._previous_cycle: datetime | None = None
        self.silences = silences
        self.figures = figures
        self.status = status
        self.events = events
        self.rules = rules
        self.owner = owner
        self._rules_generation: dict[Key, int] = {}
        self._rules_written_at: float | None = None
        # Each SLO's generation as the last cycle saw it: anything else is new work.
        self._cycled: dict[Key, int] = {}
        # Per SLO and generation: why its rules would be refused, or why nothing can be computed.
        self._rules_problems: dict[Key, tuple[int, str]] = {}
        self._spec_problems: dict[Key, tuple[int, str | None]] = {}

    def cycle(self, records: Sequence[SLORecord], now: datetime) -> CycleReport:
        started = time.monotonic()
        report = CycleReport(slos=len(records))
        objectives = self._computable(records, now, report)
        # Writes go out a bounded number at a time: each is a round trip to the API server.
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            needing = [r for r in records if r.key in objectives and self._needs_rules(r)]
            checked = self._rejected_queries([objectives[r.key] for r in needing], report)
            rejected = checked or {}
            if checked is None:  # Prometheus did not answer: these rules wait for a cycle
                needing = []
            list(
                pool.map(
                    lambda r: self._write_rules(r, objectives[r.key], rejected, report), needing
                )
            )
            for record in needing:
                if problem := self._rules_problem(record):
                    del objectives[record.key]
                    self._failed(record, Health.RULES_INVALID.value, problem, now, report)
            observations, unread = read_isolated(self.figures.read, list(objectives.values()), now)
            valid = [record for record in records if record.key in objectives]
            had_windows = any(record.status.get("maintenance") for record in valid)
            silences = self._silences(list(objectives.values()), had_windows, now)
            published = []
            for record in valid:
                objective = objectives[record.key]
                try:
                    if record.key in unread:
                        raise RuntimeError(unread[record.key])
                    observation = observations.get(record.key, Observation(problem=Health.NO_DATA))
                    span = measurement_span(objective.window, now)
                    figures = evaluate(objective, observation, span)
                except Exception as error:  # this SLO's alone: the others are evaluated
                    message = unread.get(record.key) or one_line(error)
                    self._failed(record, EVALUATION_FAILED, message, now, report)
                    continue
                report.figures[record.key] = figures
                published.append((record, objective, figures))
            pending = pool.map(
                lambda item: self._publish(
                    item[0], item[1], item[2], silences=silences, now=now, report=report
                ),
                published,
            )
            refreshes = self._within_budget([p for p in pending if p is not None], now, report)
            list(pool.map(lambda item: self._write(*item, report=report), refreshes))

        self._cycled = {record.key: record.generation for record in records}
        finished = time.monotonic()
        if report.rules_written:
            self._rules_written_at = finished
        if self._rules_written_at is not None:
            report.rules_written_ago = finished - self._rules_written_at
        report.seconds = finished - started
        return report

    def has_new_work(self, records: Sequence[SLORecord]) -> bool:
        """Whether ``records`` hold an SLO, or a generation of its spec, no cycle has seen."""
        return any(self._cycled.get(record.key) != record.generation for record in records)

    def _within_budget(
        self, pending: list[Pending], now: datetime, report: CycleReport
    ) -> list[Pending]:
        """The figure refreshes this cycle writes: the stalest first, within the write budget.

        Facts (conditions, alerts, policy actions) were written already and spent budget first;
        a refresh left out now is first in line next cycle, its status being older still.
        """
        elapsed = (
            FIRST_CYCLE_SECONDS
            if self._previous_cycle is None
            else min(MAX_BACKOFF_SECONDS, max(1.0, (now - self._previous_cycle).total_seconds()))
        )
        self._previous_cycle = now
        budget = max(1, int(self.figure_writes_per_second * elapsed) - report.status_writes)
        pending.sort(key=lambda item: str(item[0].status.get("lastEvaluationTime", "")))
        for _ in pending[budget:]:
            report.count(FIGURES_DEFERRED)
        return pending[:budget]

    def _computable(
        self, records: Sequence[SLORecord], now: datetime, report: CycleReport
    ) -> dict[Key, Objective]:
        """The SLOs this cycle can compute; each other one gets its reason in status."""
        objectives: dict[Key, Objective] = {}
        for record in records:
            if record.objective is None:
                self._failed(record, "InvalidSpec", record.invalid or "invalid spec", now, report)
                continue
            if self._spec_problems.get(record.key, (None,))[0] != record.generation:
                self._spec_problems[record.key] = (
                    record.generation,
                    spec_problem(record.objective),
                )
            problem = self._spec_problems[record.key][1] or span_problem(record.objective, now)
            if problem is not None:
                self._failed(record, EVALUATION_FAILED, problem, now, report)
            elif not self._needs_rules(record) and (problem := self._rules_problem(record)):
                self._failed(record, Health.RULES_INVALID.value, problem, now, report)
            else:
                objectives[record.key] = record.objective
        return objectives

    def _silences(
        self, objectives: list[Objective], had_windows: bool, now: datetime
    ) -> SilenceView:
        try:
            return sync_silences(self.silences, objectives, had_windows, now)
        except Exception as error:  # planning silences must not stop the figures
            log.warning("could not plan maintenance silences: %s", error)
            return SilenceView(problem=one_line(error))

    def _rules_problem(self, record: SLORecord) -> str | None:
        """Why this generation's rules were not written (Prometheus would refuse them), if so."""
        generation, problem = self._rules_problems.get(record.key, (None, None))
        return problem if generation == record.generation else None

    def _needs_rules(self, record: SLORecord) -> bool:
        if self._rules_generation.get(record.key) == record.generation:
            return False
        # After a restart: rules written for this generation need no rewrite. (A status whose
        # rules were refused shows no rules, so they are checked again.)
        return not (
            record.status.get("observedGeneration") == record.generation
            and record.status.get("rules")
        )

    def _rejected_queries(
        self, objectives: list[Objective], report: CycleReport
    ) -> dict[Key, str] | None:
        """What Prometheus rejects of the queries of SLOs about to get rules; None if unknown."""
        if not objectives:
            return {}
        try:
            return self.figures.rejected_queries(objectives)
        except Exception as error:
            log.warning("could not check the queries of %d new SLOs: %s", len(objectives), error)
            for _ in objectives:
                report.count("RulesNotWritten")
            return None

    def _write_rules(
        self,
        record: SLORecord,
        objective: Objective,
        rejected_queries: dict[Key, str],
        report: CycleReport,
    ) -> None:
        owner = self.owner(
            ServiceLevelObjective.kind_name, record.namespace, record.name, record.uid
        )
        try:
            rejected = rejected_queries.get(record.key)
            if rejected is not None:
                # A configuration error: not retried until the spec changes; status reports it.
                log.warning(
                    "rules of %s/%s not written: %s", record.namespace, record.name, rejected
                )
                self._rules_generation[record.key] = record.generation
                return
            group = rule_group(objective)
            problems = group_problems(group)
            if problems:
                # Prometheus would refuse the reload, and every other SLO's new rules with it.
                message = "Prometheus would refuse its rules: " + "; ".join(problems)
                log.warning(
                    "rules of %s/%s not written: %s", record.namespace, record.name, message
                )
                self._rules_problems[record.key] = (record.generation, message[:1024])
                self._rules_generation[record.key] = record.generation
                return
            self.rules.apply(objective, group, owner)
        except RulesObjectTakenError as error:
            # Said on the SLO, and tried again each cycle: the name may be freed.
            self._rules_problems[record.key] = (record.generation, str(error)[:1024])
            return
        except Exception as error:  # one SLO's rules must not stop the others
            log.warning("could not write rules of %s/%s: %s", record.namespace, record.name, error)
            report.count("RulesNotWritten")
            return
        self._rules_problems.pop(record.key, None)
        self._rules_generation[record.key] = record.generation
        report.tally(rules_written=1)

    def _publish(
        self,
        record: SLORecord,
        objective: Objective,
        figures: Figures,
        *,
        silences: SilenceView,
        now: datetime,
        report: CycleReport,
    ) -> Pending | None:
        """Write a status whose facts changed; hand back one whose figures alone did."""
        if figures.health is not Health.OK:
            report.count(figures.health.value)
        inputs = SLOStatusInputs(self.rules.kind, silences, self.figures.error_ratio_between)
        try:
            status = slo_status(record, objective, figures, inputs, now)
        except Exception as error:  # this SLO's alone: the others are published
            self._failed(record, EVALUATION_FAILED, one_line(error), now, report)
            return None
        change = status_change(status, record.status)
        if change is Change.FIGURES:
            return record, status, figures
        if change is Change.FACTS:
            self._write(record, status, figures, report=report)
        return None

    def _write(
        self, record: SLORecord, status: dict[str, Any], figures: Figures, *, report: CycleReport
    ) -> None:
        try:
            self.status.write(record.namespace, record.name, status)
        except Exception as error:
            log.warning("could not write status of %s/%s: %s", record.namespace, record.name, error)
            report.count("StatusNotWritten")
            return
        report.tally(status_writes=1)
        owner = self.owner(
            ServiceLevelObjective.kind_name, record.namespace, record.name, record.uid
        )
        for event in events_between(figures_from_status(record.status), figures):
            self._event(owner, event, report)
        previous_windows = record.status.get("maintenance", [])
        for event in maintenance_events(previous_windows, status.get("maintenance", [])):
            self._event(owner, event, report)

    def _event(self, owner: Any, event: Event, report: CycleReport) -> None:
        self.events.record(owner, event.reason, event.message, warning=event.warning)
        report.tally(events=1)

    def _failed(
        self, record: SLORecord, reason: str, message: str, now: datetime, report: CycleReport
    ) -> None:
        """Ready False with ``reason``, and an Event when that is news; nothing else computed."""
        status = {
            "observedGeneration": record.generation,
            "conditions": [
                ConditionWriter(record.status, record.generation, now).condition(
                    "Ready", False, reason, message
                )
            ],
        }
        report.count(reason)
        if visible(status) == visible(record.status):
            return
        try:
            self.status.write(record.namespace, record.name, status)
        except Exception as error:
            log.warning("could not write status of %s/%s: %s", record.namespace, record.name, error)
            report.count("StatusNotWritten")
            return
        report.tally(status_writes=1)
        owner = self.owner(
            ServiceLevelObjective.kind_name, record.namespace, record.name, record.uid
        )
        self._event(owner, Event(reason, message, warning=True), report)
