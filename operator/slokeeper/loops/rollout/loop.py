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
from slokeeper.loops.rollout.observed import Observed
from slokeeper.loops.rollout.ports import CanaryEvidence, RequestReader, RolloutObjects, Workload
from slokeeper.loops.rollout.role_approvals import person_action, role_approvals
from slokeeper.loops.rollout.status import (
    TickFacts,
    next_status,
    problem_status,
    state_from_status,
    status_json,
)
from slokeeper.loops.rollout.world import canary_ready, serving_weight, world_of
from slokeeper.rollout.analysis import Outcome, Verdict
from slokeeper.rollout.drill import RUNNING as DRILL_RUNNING
from slokeeper.rollout.drill import Drill
from slokeeper.rollout.requests import PersonRequest, Request
from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import (
    GATE_PHASES,
    Action,
    DeleteCanary,
    PauseTarget,
    Phase,
    ResumeTarget,
    State,
)
from slokeeper.rollout.workload import TargetMissingError
from slokeeper.slo.durations import duration_seconds

# At rest a change to the ChangeRollout, its target or its canary wakes a tick at once (the
# handlers); this is only the net under a missed watch event, and at 500 guarded Deployments
# every rest tick costs the API server 5 requests.
REST_RECHECK_SECONDS = 300.0
GATE_RECHECK_SECONDS = 30.0
PROMOTION_RECHECK_SECONDS = 5.0
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
    role_approvals: tuple[list[PersonAction], list[PersonRequest]]  # given, refused


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

    def tick(self, namespace: str, name: str) -> TickResult:
        seen = self._observe(namespace, name)
        if seen is None:
            return TickResult(None, REST_RECHECK_SECONDS)
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
        when the spec cannot be read or the target is missing."""
        body = self.objects.read(namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return None
        now, meta = self.clock(), body["metadata"]
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, meta["uid"])
        try:
            resource = ChangeRollout.model_validate(body)
        except ValidationError as error:
            self._problem(body, owner, "InvalidSpec", str(error), now)
            self._hold((body.get("spec") or {}).get("targetRef", {}).get("name"), owner)
            return None
        spec, status = resource.spec, resource.status or ChangeRolloutStatus()
        try:
            target = self.workload.read_target(namespace, spec.target_ref.name)
        except TargetMissingError as error:
            self._problem(body, owner, "TargetMissing", str(error), now)
            return None
        guard = target.guarded_by
        if guard not in (None, name) and self.objects.read(namespace, guard) is not None:
            message = (
                f"Deployment {namespace}/{target.name} is already guarded by ChangeRollout {guard}:"
                f" one ChangeRollout per Deployment. This one changes nothing; delete it, or "
                f"{guard} first."
            )
            self._problem(body, owner, "TargetGuardedByAnother", message, now)
            return None
        canary = self.workload.read_canary(namespace, spec.target_ref.name)
        if canary.present and canary.owner_uid != owner.uid:
            message = (
                f"Deployment {namespace}/{target.name}-canary exists and is not this "
                f"ChangeRollout's canary: slokeeper leaves it alone and holds changes to "
                f"{target.name} (paused) until it is renamed or deleted."
            )
            self._problem(body, owner, "CanaryNameTaken", message, now)
            self._hold(target.name, owner)
            return None
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
            asked=self.requests.read(resource.metadata.annotations),
            now=now,
            calendar=spec.gates.change_calendar().verdict(now),
            read_slo=functools.cache(lambda slo: self.objects.read_slo(namespace, slo)),
        )

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
        """The ChangeRollout is being deleted: remove the canary and hand the target back.

        On its stable template the target is resumed, as it was before slokeeper guarded it. In
        the middle of a change it stays paused on its stable ReplicaSet (resuming would roll out
        a template nobody verified) and an Event on the Deployment says so and how to go on.
        """
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, body["metadata"]["uid"])
        target_name = body["spec"]["targetRef"]["name"]
        try:
            target = self.workload.read_target(namespace, target_name)
        except TargetMissingError:
            return
        if target.guarded_by not in (None, name):
            return  # guarded by another ChangeRollout: not this one's to hand back
        stable = ((body.get("status") or {}).get("stable") or {}).get("templateHash")
        self.workload.mark(target, None)
        if stable in (None, target.template_hash):
            self.workload.apply(owner, target, (DeleteCanary(), ResumeTarget()))
            return
        self.workload.apply(owner, target, (DeleteCanary(),))
        deployment = ObjectRef(
            "Deployment", namespace, target_name, target.body["metadata"]["uid"], "apps/v1"
        )
        self.workload.record(
            deployment,
            "LeftPaused",
            f"ChangeRollout {name} was deleted while template {target.template_hash} was not "
            f"verified: the Deployment stays paused on its stable pods. `kubectl rollout resume "
            f"deployment/{target_name} -n {namespace}` rolls the new template out unguarded.",
            warning=True,
        )

    def fail_safe(self, namespace: str, name: str, error: str) -> None:
        """A tick failed in a way no retry fixes (a bug, an input nothing refused): never keep a
        canary serving in silence. The canary is removed, the target held paused on its stable
        pods, and the conditions and an Event say why; once fixed, the next tick carries on."""
        body = self.objects.read(namespace, name)
        if body is None:
            return
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, body["metadata"]["uid"])
        message = (
            f"The rollout could not decide ({error}); its canary was removed and the target "
            f"holds its stable pods until this is fixed."
        )
        self._problem(body, owner, "TickFailed", message, self.clock())
        target_name = (body.get("spec") or {}).get("targetRef", {}).get("name")
        if not isinstance(target_name, str):
            return
        try:
            target = self.workload.read_target(namespace, target_name)
        except TargetMissingError:
            return
        if target.guarded_by in (None, name):
            self.workload.apply(owner, target, (DeleteCanary(), PauseTarget()))

    def _hold(self, target_name: object, owner: ObjectRef) -> None:
        """Fail closed: a ChangeRollout that cannot guard its target still keeps changes from
        rolling out unguarded — the target stays paused, and nothing else is touched."""
        if not isinstance(target_name, str) or not target_name:
            return
        try:
            target = self.workload.read_target(owner.namespace, target_name)
        except TargetMissingError:
            return
        if target.guarded_by in (None, owner.name):
            self.workload.apply(owner, target, (PauseTarget(),))

    def _problem(
        self, body: dict[str, Any], owner: ObjectRef, reason: str, message: str, now: datetime
    ) -> None:
        """Say what is wrong on the conditions (and once as an Event); change nothing else."""
        meta, status = body["metadata"], body.get("status") or {}
        ready: dict[str, Any] = next(
            (c for c in status.get("conditions", []) if c["type"] == "Ready"), {}
        )
        if ready.get("reason") == reason and ready.get("message") == message:
            return
        new_status = problem_status(status, int(meta.get("generation", 0)), now, reason, message)
        self.objects.write_status(owner.namespace, owner.name, new_status, meta["resourceVersion"])
        self.workload.record(owner, reason, message, warning=True)
