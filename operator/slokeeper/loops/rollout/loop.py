"""The rollout loop: one tick of one ChangeRollout — observe, decide, record, act.

A tick reads the ChangeRollout, its target Deployment and canary, the SLOs it names and (when an
analysis is due) the canary's evidence; works out the gates; calls the state machine; writes the
new status first and only then applies the actions. Every action states an end (paused, canary
at N replicas, no canary), so a tick interrupted anywhere — operator killed, API conflict — is
finished by the next one from the status already written: no step repeats, no canary is
orphaned, no timed pause restarts from zero. The loop reaches the world only through its ports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from slokeeper.api.change_policy import POLICY_NAME, govern
from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout import ChangeRollout, ChangeRolloutSpec
from slokeeper.api.rollout_status import (
    AnalysisRecord,
    ChangeRolloutStatus,
    DrillRecord,
    PersonAction,
)
from slokeeper.loops.rollout import announcements
from slokeeper.loops.rollout.change_cost import budget_burned
from slokeeper.loops.rollout.drills import drill_tick, drill_to_run
from slokeeper.loops.rollout.gate_inputs import gate, person_gates
from slokeeper.loops.rollout.holding import Holding
from slokeeper.loops.rollout.observed import Observed
from slokeeper.loops.rollout.ports import CanaryEvidence, RequestReader, RolloutObjects, Workload
from slokeeper.loops.rollout.refusals import announce_refused
from slokeeper.loops.rollout.role_approvals import person_action, role_approvals
from slokeeper.loops.rollout.status import (
    TickFacts,
    next_status,
    state_from_status,
    status_json,
)
from slokeeper.loops.rollout.world import canary_ready, serving_weight, world_of
from slokeeper.rollout.analysis import Outcome, Verdict
from slokeeper.rollout.drill import RUNNING as DRILL_RUNNING
from slokeeper.rollout.drill import Drill
from slokeeper.rollout.out_of_band import undo_request_awaited
from slokeeper.rollout.requests import PersonRequest, Request
from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import (
    GATE_PHASES,
    Action,
    Phase,
    State,
)
from slokeeper.rollout.workload import CanaryView, TargetMissingError, TargetView
from slokeeper.slo.durations import duration_seconds

# At rest a change to the ChangeRollout, its target or its canary wakes a tick at once (the
# handlers); this is only the net under a missed watch event, and at 500 guarded Deployments
# every rest tick costs the API server 5 requests.
REST_RECHECK_SECONDS = 300.0
GATE_RECHECK_SECONDS = 30.0
PROMOTION_RECHECK_SECONDS = 5.0
UNDO_REQUEST_RECHECK_SECONDS = 1.0  # its request's write wakes the tick sooner
DRILL_RECHECK_SECONDS = 1.0  # a drill's time to restore is measured to the tick


@dataclass(frozen=True)
class TickResult:
    phase: Phase | None
    delay_seconds: float
    analysed: Outcome | None = None
    status: dict[str, Any] | None = None  # as written this tick: its records feed /metrics


@dataclass(frozen=True)
class Decided:
    """What one tick decided: the machine's transition, and what else it recorded."""

    after: State
    actions: tuple[Action, ...]
    verdict: Verdict | None
    facts: TickFacts
    drill: Drill | None
    role_approvals: tuple[list[PersonAction], list[tuple[PersonRequest, str]]]  # given, refused


def analysis_period(spec: ChangeRolloutSpec, last: Outcome) -> float:
    """Seconds from one analysis to the next: the spec's interval, or a quarter of it while the
    canary's traffic has not yet reached Prometheus (NotEnoughTraffic) — such an analysis gave
    no verdict, and asking again soon is what makes a failing canary's first verdict, and so its
    rollback, come seconds after its pods are Ready instead of an interval later."""
    interval = duration_seconds(spec.analysis.interval)
    return interval / 4 if last is Outcome.NOT_ENOUGH_TRAFFIC else interval


def _last_analysis(status: ChangeRolloutStatus) -> AnalysisRecord | None:
    analyses = status.current.analyses if status.current else []
    return analyses[-1] if analyses else None


def _next_analysis_due(spec: ChangeRolloutSpec, last: AnalysisRecord) -> datetime:
    """When the running change's next analysis is due (a tick woken early by a watch event
    must not push it back)."""
    return last.time + timedelta(seconds=analysis_period(spec, Outcome(last.outcome)))


def _phase_delay(
    spec: ChangeRolloutSpec, after: State, opens: datetime | None, now: datetime
) -> float:
    if after.phase is Phase.PROGRESSING:
        return duration_seconds(spec.analysis.interval)
    if after.phase is Phase.PROMOTING:
        return PROMOTION_RECHECK_SECONDS
    if after.phase in GATE_PHASES:
        until_open = (opens - now).total_seconds() + 0.5 if opens else GATE_RECHECK_SECONDS
        return max(0.5, min(GATE_RECHECK_SECONDS, until_open))
    return REST_RECHECK_SECONDS


def _undo_request_awaited(seen: Observed) -> bool:
    undo = seen.asked.requests.get(Request.UNDO)
    return undo_request_awaited(
        seen.before,
        seen.target.template_hash,
        seen.target.undone_at,
        undo.revision if undo else None,
        seen.now,
    )


def _paused(seen: Observed) -> PersonAction | None:
    """Who paused the rollout, dated from when the operator first saw it."""
    pause, seen_before = seen.asked.pause, seen.status.paused
    if pause is None:
        return None
    if seen_before and (seen_before.by, seen_before.reason) == (pause.by, pause.reason):
        return seen_before
    return person_action(pause, seen.now)


class RolloutLoop:
    def __init__(
        self,
        objects: RolloutObjects,
        workload: Workload,
        evidence: CanaryEvidence,
        requests: RequestReader,
        *,
        clock: Callable[[], datetime],
        status_written: Callable[[Phase], None] = lambda _: None,
        tick_observed: Callable[[Phase], None] = lambda _: None,
    ) -> None:
        """``status_written`` is called between writing a status and acting on it: where a
        crash hurts most, so fault-injection tests kill the operator there."""
        self.objects = objects
        self.workload = workload
        self.evidence = evidence
        self.requests = requests
        self.clock = clock
        self.status_written = status_written
        self.tick_observed = tick_observed  # fault injection: told the phase a tick starts in
        self.holding = Holding(objects, workload, clock)

    def tick(self, namespace: str, name: str) -> TickResult:
        seen = self._observe(namespace, name)
        if seen is None:
            return TickResult(None, REST_RECHECK_SECONDS)
        if _undo_request_awaited(seen):
            return TickResult(None, UNDO_REQUEST_RECHECK_SECONDS)
        self.tick_observed(seen.before.phase)
        decided = self._decide(seen)
        status, written = self._record(seen, decided)
        self._act(seen, decided)
        return TickResult(
            decided.after.phase,
            self._delay(seen, decided, status),
            decided.verdict.outcome if decided.verdict else None,
            written,
        )

    def _observe(self, namespace: str, name: str) -> Observed | None:
        """Everything the tick needs, read once; None (after saying why on the conditions)
        when the spec or the namespace's ChangePolicy cannot be read, the target is missing, or
        the target or its canary's name is another's."""
        body = self.objects.read(namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return None
        now, meta = self.clock(), body["metadata"]
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, meta["uid"])
        read = self._read_resource(body, owner, now)
        if read is None:
            return None
        resource, spec = read
        try:
            target = self.workload.read_target(namespace, spec.target_ref.name)
        except TargetMissingError as error:
            self.holding.problem(body, owner, "TargetMissing", str(error), now)
            return None
        canary = self.workload.read_canary(namespace, spec.target_ref.name)
        if self._taken(body, owner, target, canary, now):
            return None
        status = resource.status or ChangeRolloutStatus()
        return Observed(
            owner=owner,
            resource_version=meta["resourceVersion"],
            generation=resource.metadata.generation or 0,
            spec=spec,
            plan=spec.to_plan(),
            stored_status=body.get("status") or {},
            status=status,
            before=state_from_status(status),
            target=target,
            canary=canary,
            asked=self.requests.read(meta),
            now=now,
            calendar=spec.gates.change_calendar().verdict(now),
            read_slo=functools.cache(lambda slo: self.objects.read_slo(namespace, slo)),
        )

    def _read_resource(
        self, body: dict[str, Any], owner: ObjectRef, now: datetime
    ) -> tuple[ChangeRollout, ChangeRolloutSpec] | None:
        """The ChangeRollout and its spec as the namespace's ChangePolicy holds it; None (the
        target held paused: fail closed) when either cannot be read."""
        try:
            resource = ChangeRollout.model_validate(body)
        except ValidationError as error:
            self.holding.problem(body, owner, "InvalidSpec", str(error), now)
            self.holding.hold((body.get("spec") or {}).get("targetRef", {}).get("name"), owner)
            return None
        try:
            return resource, govern(resource.spec, self.objects.read_policy(owner.namespace))
        except ValidationError as error:
            message = f"ChangePolicy {owner.namespace}/{POLICY_NAME} cannot be read: {error}"
            self.holding.problem(body, owner, "InvalidChangePolicy", message, now)
            self.holding.hold(resource.spec.target_ref.name, owner)
            return None

    def _taken(
        self,
        body: dict[str, Any],
        owner: ObjectRef,
        target: TargetView,
        canary: CanaryView,
        now: datetime,
    ) -> bool:
        """The target is guarded by another ChangeRollout, or the canary's name is taken by a
        Deployment that is not this one's: said on the conditions, and nothing of it touched."""
        guard, namespace = target.guarded_by, owner.namespace
        if guard not in (None, owner.name) and self.objects.read(namespace, guard) is not None:
            message = (
                f"Deployment {namespace}/{target.name} is already guarded by ChangeRollout {guard}:"
                f" one ChangeRollout per Deployment. This one changes nothing; delete it, or "
                f"{guard} first."
            )
            self.holding.problem(body, owner, "TargetGuardedByAnother", message, now)
            return True
        if canary.present and canary.owner_uid != owner.uid:
            message = (
                f"Deployment {namespace}/{target.name}-canary exists and is not this "
                f"ChangeRollout's canary: slokeeper leaves it alone and holds changes to "
                f"{target.name} (paused) until it is renamed or deleted."
            )
            self.holding.problem(body, owner, "CanaryNameTaken", message, now)
            self.holding.hold(target.name, owner)
            return True
        return False

    def _decide(self, seen: Observed) -> Decided:
        approvals, override = person_gates(seen)
        given, refused = role_approvals(
            seen.status, seen.asked.roles, seen.target, seen.before, seen.now
        )
        approvals += given
        verdict = self._verdict(seen)
        drill_asked = seen.asked.requests.get(Request.DRILL)
        drill = drill_to_run(
            seen.status, drill_asked, seen.before, seen.target, seen.canary, seen.now
        )
        world = world_of(seen, verdict, gate(seen, approvals, override), drill)
        after, actions = advance(seen.plan, seen.before, world, seen.now)
        drill, drill_actions, drill_record = drill_tick(
            drill,
            drill_asked,
            (seen.before, after),
            seen.plan,
            (seen.target, seen.canary),
            seen.status,
            seen.now,
        )
        facts = self._facts(seen, after, verdict, (approvals, override), drill_record)
        return Decided(after, (*actions, *drill_actions), verdict, facts, drill, (given, refused))

    def _facts(
        self,
        seen: Observed,
        after: State,
        verdict: Verdict | None,
        people: tuple[list[PersonAction], PersonAction | None],
        drill: DrillRecord | None,
    ) -> TickFacts:
        """What else the tick's status records, besides the machine's own transition."""
        approvals, override = people
        canary = seen.canary
        return TickFacts(
            now=seen.now,
            generation=seen.generation,
            target_images=seen.target.images,
            target_template=seen.target.template_hash,
            canary_weight_percent=(
                serving_weight(seen) if after.phase is Phase.PROGRESSING else 0.0
            ),
            verdict=verdict,
            approvals=approvals,
            override=override,
            paused=_paused(seen),
            requests=[
                (r.value, person_action(p, seen.now)) for r, p in seen.asked.requests.items()
            ],
            restored=not canary.present
            and seen.target.available
            and not seen.target.pods_not_of(after.stable or seen.target.template_hash),
            canary_pod_template_hash=(
                canary.pod_template_hash
                if canary.present and canary.template_hash == after.candidate
                else None
            ),
            budget_burned=budget_burned(self.evidence, seen, after),
            drill=drill,
        )

    def _record(
        self, seen: Observed, decided: Decided
    ) -> tuple[ChangeRolloutStatus, dict[str, Any]]:
        """Write the new status (if it changed), then remove the requests it records."""
        transition = (seen.before, decided.after, decided.actions)
        status = next_status(seen.status, seen.plan, transition, decided.facts)
        written, version = status_json(status), seen.resource_version
        if written != seen.stored_status:
            version = self.objects.write_status(seen.namespace, seen.name, written, version)
            self.status_written(decided.after.phase)
        # Recorded first, then removed: a restart in between sees the request again, and every
        # request is harmless to repeat in the state it led to.
        self.objects.remove_annotations(
            seen.namespace, seen.name, self.requests.keys(seen.asked), version
        )
        return status, written

    def _act(self, seen: Observed, decided: Decided) -> None:
        """Say what people's requests led to, then apply the decided actions."""
        events, owner = self.workload, seen.owner
        announcements.announce_pause(
            events, owner, decided.facts, was_paused=seen.status.paused is not None
        )
        announcements.announce_requests(events, owner, seen.asked.requests, decided.facts)
        announcements.announce_roles(events, owner, *decided.role_approvals)
        announce_refused(events, owner, seen.asked)
        self.workload.apply(owner, seen.target, decided.actions)
        self.workload.mark(seen.target, (seen.name, decided.after.phase.value))

    def _delay(self, seen: Observed, decided: Decided, status: ChangeRolloutStatus) -> float:
        after, now = decided.after, seen.now
        delay = _phase_delay(seen.spec, after, seen.calendar.next_open, now)
        last = _last_analysis(status)
        if after.phase is Phase.PROGRESSING and last is not None:
            due = _next_analysis_due(seen.spec, last)
            delay = min(delay, max(0.05, (due - now).total_seconds()))
        if decided.drill is not None and decided.drill.stage in DRILL_RUNNING:
            delay = min(delay, DRILL_RECHECK_SECONDS)
        return delay

    def _verdict(self, seen: Observed) -> Verdict | None:
        """An analysis, when one is due: the canary is running the candidate with all the pods
        its step asks for, and an analysis period has passed since the last analysis."""
        spec, before, canary = seen.spec, seen.before, seen.canary
        if before.phase is not Phase.PROGRESSING or before.candidate != seen.target.template_hash:
            return None
        if not canary_ready(seen):
            return None
        last = _last_analysis(seen.status)
        if last is not None and seen.now < _next_analysis_due(spec, last):
            return None
        objectives = {check.name: seen.objective(check.name) for check in spec.analysis.slos}
        stable = next(
            (rs for rs in seen.target.replica_sets if rs.template_hash == before.stable), None
        )
        return self.evidence.analyse(
            spec,
            seen.namespace,
            objectives,
            canary.pod_template_hash,
            stable.pod_template_hash if stable else None,
        )

    def release(self, namespace: str, name: str, body: dict[str, Any]) -> None:
        """The ChangeRollout is being deleted (``Holding.release``)."""
        self.holding.release(namespace, name, body)

    def fail_safe(self, namespace: str, name: str, error: str) -> None:
        """A tick failed as no retry fixes (``Holding.fail_safe``)."""
        self.holding.fail_safe(namespace, name, error)
