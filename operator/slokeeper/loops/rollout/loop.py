"""The rollout loop: one tick of one ChangeRollout — observe, ask the core, record, act.

A tick reads the ChangeRollout, its target Deployment and canary, the SLOs it names and (when an
analysis is due) Prometheus; works out the gates; calls the state machine; writes the new status
first and only then applies the actions. Every action states an end (paused, canary at N
replicas, no canary), so a tick interrupted anywhere — operator killed, API conflict — is finished
by the next one from the status already written: no step repeats, no canary is orphaned, no
timed pause restarts from zero.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout import (
    BudgetBurn,
    ChangeRollout,
    ChangeRolloutSpec,
    PersonAction,
)
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.kube.rollout_commands import (
    annotation,
    read_pause,
    read_requests,
    read_role_approvals,
    role_annotation,
)
from slokeeper.loops.rollout.drills import drill_missing, drill_tick, drill_to_run
from slokeeper.loops.rollout.role_approvals import person_action, role_approvals
from slokeeper.loops.rollout.status import (
    TickFacts,
    next_status,
    problem_status,
    state_from_status,
)
from slokeeper.prometheus.canary_analysis import analyse_canary
from slokeeper.prometheus.canary_evidence import budget_burned, canary_pods
from slokeeper.prometheus.client import PrometheusUnreachableError, QueryRejectedError
from slokeeper.prometheus.slo_figures import InstantQueries
from slokeeper.rollout.analysis import Outcome, Verdict
from slokeeper.rollout.change_calendar import CalendarVerdict
from slokeeper.rollout.drill import RUNNING as DRILL_RUNNING
from slokeeper.rollout.gates import BudgetStanding, GateInputs, combined_gate
from slokeeper.rollout.replicas import canary_replicas
from slokeeper.rollout.requests import PersonRequest, Request
from slokeeper.rollout.state_machine import (
    GATE_PHASES,
    Action,
    Command,
    DeleteCanary,
    Gate,
    Phase,
    ResumeTarget,
    State,
    World,
    advance,
    canary_weight_percent,
)
from slokeeper.rollout.workload import CanaryView, TargetMissingError, TargetView
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.durations import duration_seconds
from slokeeper.slo.objective import Objective, PolicyAction

log = logging.getLogger(__name__)

REST_RECHECK_SECONDS = 60.0
GATE_RECHECK_SECONDS = 30.0
PROMOTION_RECHECK_SECONDS = 5.0
DRILL_RECHECK_SECONDS = 1.0  # a drill's time to restore is measured to the tick


class RolloutObjects(Protocol):
    """The ChangeRollout and the SLOs it names (RolloutStore in production)."""

    def read(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def read_slo(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def write_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str
    ) -> str: ...

    def remove_annotations(
        self, namespace: str, name: str, keys: list[str], resource_version: str
    ) -> None: ...


class Workload(Protocol):
    """The guarded Deployment and its canary (kube.rollout_target in production)."""

    def read_target(self, namespace: str, name: str) -> TargetView: ...

    def read_canary(self, namespace: str, target: str) -> CanaryView: ...

    def apply(self, owner: ObjectRef, target: TargetView, actions: tuple[Action, ...]) -> None: ...

    def record(self, owner: ObjectRef, reason: str, message: str, warning: bool = False) -> None:
        """Post an Event on the ChangeRollout."""
        ...

    def mark(self, target: TargetView, phase: str | None) -> None:
        """Annotate the target with the rollout's phase (None: remove it)."""
        ...


@dataclass(frozen=True)
class Observed:
    """What one tick read, before deciding anything."""

    namespace: str
    spec: ChangeRolloutSpec
    status: dict[str, Any]
    target: TargetView
    canary: CanaryView
    before: State
    now: datetime
    calendar: CalendarVerdict
    read_slo: Callable[[str], dict[str, Any] | None]  # each SLO read at most once per tick


@dataclass(frozen=True)
class TickResult:
    phase: Phase | None
    delay_seconds: float
    analysed: Outcome | None = None
    status: dict[str, Any] | None = None  # as written this tick: its records feed /metrics


def _paused(
    status: dict[str, Any], pause: PersonRequest | None, now: datetime
) -> PersonAction | None:
    """Who paused the rollout, dated from when the operator first saw it."""
    if pause is None:
        return None
    seen = status.get("paused")
    if seen and seen.get("by", "") == pause.by and seen.get("reason", "") == pause.reason:
        return PersonAction.model_validate(seen)
    return person_action(pause, now)


def analysis_period(spec: ChangeRolloutSpec, last: Outcome) -> float:
    """Seconds from one analysis to the next: the spec's interval, or a quarter of it while the
    canary's traffic has not yet reached Prometheus (NotEnoughTraffic) — such an analysis gave
    no verdict, and asking again soon is what makes a failing canary's first verdict, and so its
    rollback, come seconds after its pods are Ready instead of an interval later."""
    interval = duration_seconds(spec.analysis.interval)
    return interval / 4 if last is Outcome.NOT_ENOUGH_TRAFFIC else interval


def _until_next_analysis(spec: ChangeRolloutSpec, status: dict[str, Any], now: datetime) -> float:
    """Seconds until the running change's next analysis is due (a tick woken early by a watch
    event must not push it back)."""
    analyses = (status.get("current") or {}).get("analyses") or []
    if not analyses:
        return duration_seconds(spec.analysis.interval)
    last = analyses[-1]
    due = datetime.fromisoformat(last["time"]) + timedelta(
        seconds=analysis_period(spec, Outcome(last["outcome"]))
    )
    return max(0.05, (due - now).total_seconds())


def _budget(slo: str, body: dict[str, Any] | None) -> BudgetStanding:
    if body is None:
        return BudgetStanding(slo, found=False)
    status = body.get("status") or {}
    action = status.get("policyAction")
    return BudgetStanding(
        slo,
        found=True,
        action=PolicyAction(action) if action else None,
        budget_remaining_ratio=status.get("errorBudgetRemainingRatio"),
    )


def _objective(body: dict[str, Any] | None) -> Objective | str:
    if body is None:
        return "not found"
    try:
        return ServiceLevelObjective.model_validate(body).to_objective()
    except ValidationError as error:
        return f"invalid spec: {error.error_count()} problem(s)"


def _command(requests: dict[Request, PersonRequest]) -> Command | None:
    if Request.ABORT in requests:
        return Command.ABORT
    if Request.PROMOTE in requests:
        return Command.FORCE_PROMOTE if requests[Request.PROMOTE].force else Command.PROMOTE
    if Request.RETRY in requests:
        return Command.RETRY
    return None


class RolloutLoop:
    def __init__(
        self,
        objects: RolloutObjects,
        workload: Workload,
        prometheus: InstantQueries,
        clock: Callable[[], datetime],
        status_written: Callable[[Phase], None] = lambda _: None,
    ) -> None:
        """``status_written`` is called between writing a status and acting on it: where a
        crash hurts most, so fault-injection tests kill the operator there."""
        self.objects = objects
        self.workload = workload
        self.prometheus = prometheus
        self.clock = clock
        self.status_written = status_written

    def tick(self, namespace: str, name: str) -> TickResult:
        body = self.objects.read(namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return TickResult(None, REST_RECHECK_SECONDS)
        now = self.clock()
        meta = body["metadata"]
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, meta["uid"])
        status: dict[str, Any] = body.get("status") or {}
        generation = int(meta.get("generation", 0))
        try:
            spec = ChangeRollout.model_validate(body).spec
        except ValidationError as error:
            self._problem(body, owner, "InvalidSpec", str(error), now)
            return TickResult(None, REST_RECHECK_SECONDS)
        try:
            target = self.workload.read_target(namespace, spec.target_ref.name)
        except TargetMissingError as error:
            self._problem(body, owner, "TargetMissing", str(error), now)
            return TickResult(None, REST_RECHECK_SECONDS)

        plan = spec.to_plan()
        before = state_from_status(status)
        canary = self.workload.read_canary(namespace, spec.target_ref.name)
        requests = read_requests(meta.get("annotations"))
        asked_roles = read_role_approvals(meta.get("annotations"))
        pause = read_pause(meta.get("annotations"))
        facts_approvals, override = self._person_gates(status, requests, target, before, now)
        given, refused = role_approvals(status, asked_roles, target, before, now)
        facts_approvals += given
        seen = Observed(
            namespace,
            spec,
            status,
            target,
            canary,
            before,
            now,
            spec.gates.change_calendar().verdict(now),
            functools.cache(lambda slo: self.objects.read_slo(namespace, slo)),
        )
        gate = self._gate(seen, facts_approvals, override, pause)
        verdict = self._verdict(seen)

        drill_asked = requests.get(Request.DRILL)
        drill = drill_to_run(status, drill_asked, before, target, canary, now)
        world = World(
            target_template=target.template_hash,
            stable_replicas=target.replicas,
            target_rolled_out=target.rolled_out,
            verdict=verdict.outcome if verdict else None,
            verdict_message=verdict.message if verdict else "",
            gate=gate,
            command=_command(requests),
            # A drill's canary is the drill's to remove, not a leftover.
            canary_present=canary.present and drill is None,
        )
        after, actions = advance(plan, before, world, now)
        drill, drill_actions, drill_record = drill_tick(
            drill, drill_asked, (before, after), plan, (target, canary), status, now
        )
        actions = (*actions, *drill_actions)
        images = tuple(
            c.get("image", "") for c in target.body["spec"]["template"]["spec"]["containers"]
        )
        facts = TickFacts(
            now=now,
            generation=generation,
            target_images=images,
            target_template=target.template_hash,
            canary_weight_percent=(
                canary_weight_percent(plan, after, world)
                if after.phase is Phase.PROGRESSING
                else 0.0
            ),
            verdict=verdict,
            approvals=facts_approvals,
            override=override,
            paused=_paused(status, pause, now),
            requests=[(r.value, person_action(p, now)) for r, p in requests.items()],
            restored=not canary.present and target.available,
            canary_pod_template_hash=(
                canary.pod_template_hash
                if canary.present and canary.template_hash == after.candidate
                else None
            ),
            budget_burned=self._budget_burned(seen, canary, after),
            drill=drill_record,
        )
        new_status = next_status(status, plan, (before, after, actions), facts)
        version = meta["resourceVersion"]
        if new_status != status:
            version = self.objects.write_status(namespace, name, new_status, version)
            self.status_written(after.phase)
        # Recorded first, then removed: a restart in between sees the request again, and every
        # request is harmless to repeat in the state it led to.
        self.objects.remove_annotations(
            namespace,
            name,
            [annotation(r) for r in requests] + [role_annotation(r) for r in asked_roles],
            version,
        )
        self._announce(owner, requests, facts, was_paused=bool(status.get("paused")))
        self._announce_roles(owner, given, refused)
        self.workload.apply(owner, target, actions)
        self.workload.mark(target, after.phase.value)
        delay = self._delay(spec, after, seen.calendar.next_open, now)
        if after.phase is Phase.PROGRESSING:
            delay = min(delay, _until_next_analysis(spec, new_status, now))
        if drill is not None and drill.stage in DRILL_RUNNING:
            delay = min(delay, DRILL_RECHECK_SECONDS)
        return TickResult(after.phase, delay, world.verdict, new_status)

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
        stable = ((body.get("status") or {}).get("stable") or {}).get("templateHash")
        self.workload.mark(target, None)
        if stable in (None, target.template_hash):
            self.workload.apply(owner, target, (DeleteCanary(), ResumeTarget()))
            return
        self.workload.apply(owner, target, (DeleteCanary(),))
        deployment = ObjectRef(
            "Deployment",
            namespace,
            target_name,
            target.body["metadata"]["uid"],
            api_version="apps/v1",
        )
        self.workload.record(
            deployment,
            "LeftPaused",
            f"ChangeRollout {name} was deleted while template {target.template_hash} was not "
            f"verified: the Deployment stays paused on its stable pods. `kubectl rollout resume "
            f"deployment/{target_name} -n {namespace}` rolls the new template out unguarded.",
            warning=True,
        )

    def _person_gates(
        self,
        status: dict[str, Any],
        requests: dict[Request, PersonRequest],
        target: TargetView,
        before: State,
        now: datetime,
    ) -> tuple[list[PersonAction], PersonAction | None]:
        """New approvals and the override for the target's template (those already recorded for
        it come from status)."""

        def for_this_template(request: PersonRequest | None) -> bool:
            return (
                request is not None
                and target.template_hash != before.stable
                and request.revision in (None, target.template_hash)
            )

        approvals = []
        approval = requests.get(Request.APPROVE)
        if approval is not None and for_this_template(approval):
            approvals.append(person_action(approval, now))
        asked = requests.get(Request.OVERRIDE)
        # An override without a reason is not one: the reason is what the postmortem reads.
        if asked is not None and asked.reason and for_this_template(asked):
            return approvals, person_action(asked, now)
        return approvals, None

    def _budget_burned(self, seen: Observed, canary: CanaryView, after: State) -> list[BudgetBurn]:
        """When this tick ends the change: what its canary cost each SLO of the analysis."""
        current = seen.status.get("current") or {}
        candidate = (current.get("revision") or {}).get("templateHash")
        if not candidate or candidate == after.candidate:
            return []
        pod_hash = current.get("canaryPodTemplateHash") or (
            canary.pod_template_hash if canary.template_hash == candidate else None
        )
        if pod_hash is None:
            return []  # no canary ever ran: nothing was burned
        started = datetime.fromisoformat(current["startedAt"])
        change_seconds = max(60.0, round((seen.now - started).total_seconds()))
        burned = []
        for check in seen.spec.analysis.slos:
            objective = _objective(seen.read_slo(check.name))
            if isinstance(objective, str):
                continue
            window = measurement_span(objective.window, seen.now).elapsed_seconds
            try:
                bad, budget = budget_burned(
                    self.prometheus,
                    objective,
                    canary_regex=canary_pods(seen.spec.target_ref.name, pod_hash),
                    change_seconds=change_seconds,
                    window_seconds=max(60.0, round(window)),
                    at=seen.now,
                )
            except (PrometheusUnreachableError, QueryRejectedError):
                bad = budget = None
            ratio = bad / budget if bad is not None and budget else None
            burned.append(
                BudgetBurn(
                    slo=check.name,
                    canary_bad_events=None if bad is None else round(bad, 3),
                    budget_events=None if budget is None else round(budget, 3),
                    burned_ratio=None if ratio is None else round(ratio, 6),
                )
            )
        return burned

    def _announce_roles(
        self, owner: ObjectRef, given: list[PersonAction], refused: list[PersonRequest]
    ) -> None:
        for approval in given:
            why = f": {approval.reason}" if approval.reason else ""
            self.workload.record(
                owner, "Approved", f"{approval.by} approved as {approval.role}{why}"
            )
        for request in refused:
            self.workload.record(
                owner,
                "ApprovalRefused",
                f"{request.by or 'someone'} cannot approve as {request.role}: they already "
                "approved this change in another role, and each role needs a different person.",
                warning=True,
            )

    def _gate(
        self,
        seen: Observed,
        approvals: list[PersonAction],
        override: PersonAction | None,
        pause: PersonRequest | None,
    ) -> Gate:
        spec = seen.spec
        current = seen.status.get("current") or {}
        same = (current.get("revision") or {}).get("templateHash") == seen.target.template_hash
        recorded = current if same else {}
        approved_by = [a.get("by", "") for a in recorded.get("approvals", [])]
        approved_by += [a.by for a in approvals]
        in_roles = [
            (a["role"], a.get("by", "")) for a in recorded.get("approvals", []) if a.get("role")
        ]
        in_roles += [(a.role, a.by) for a in approvals if a.role]
        overridden = recorded.get("override")
        override_text = (
            f"{override.by or 'someone'}: {override.reason}"
            if override
            else (
                f"{overridden.get('by') or 'someone'}: {overridden.get('reason', '')}"
                if overridden
                else None
            )
        )
        return combined_gate(
            GateInputs(
                budgets=[
                    _budget(slo, seen.read_slo(slo)) for slo in spec.gates.slo_budget_policies
                ],
                calendar=seen.calendar,
                risk=spec.risk.value,
                risk_needs_approval=spec.risk in spec.gates.approval.required_for,
                approved_by=[who or "someone" for who in approved_by],
                drill_missing=drill_missing(spec, seen.status, seen.now),
                roles_needed=spec.gates.approval.roles_for(spec.risk),
                role_approvals=in_roles,
                override=override_text,
                paused_by=(pause.signed() if pause else None),
            )
        )

    def _verdict(self, seen: Observed) -> Verdict | None:
        """An analysis, when one is due: the canary is running the candidate with all the pods
        its step asks for, and an analysis period has passed since the last analysis."""
        spec, before, target, canary = seen.spec, seen.before, seen.target, seen.canary
        if before.phase is not Phase.PROGRESSING or before.candidate != target.template_hash:
            return None
        wanted = canary_replicas(target.replicas, spec.to_plan().weights[before.step])
        if canary.template_hash != before.candidate or canary.ready_replicas < wanted:
            return None
        analyses = (seen.status.get("current") or {}).get("analyses") or []
        if analyses:
            last = datetime.fromisoformat(analyses[-1]["time"])
            period = analysis_period(spec, Outcome(analyses[-1]["outcome"]))
            if seen.now - last < timedelta(seconds=period):
                return None
        objectives = {
            check.name: _objective(seen.read_slo(check.name)) for check in spec.analysis.slos
        }
        return analyse_canary(
            self.prometheus, spec, seen.namespace, objectives, canary.pod_template_hash
        )

    def _announce(
        self,
        owner: ObjectRef,
        requests: dict[Request, PersonRequest],
        facts: TickFacts,
        *,
        was_paused: bool,
    ) -> None:
        """Events for what people asked this tick (the decisions' Events come with the actions)."""
        if facts.paused is not None and not was_paused:
            who = facts.paused
            why = f": {who.reason}" if who.reason else ""
            self.workload.record(owner, "RolloutPaused", f"Paused by {who.by or 'someone'}{why}.")
        if facts.paused is None and was_paused:
            self.workload.record(owner, "RolloutResumed", "The pause annotation was removed.")
        for request, person in requests.items():
            if request is Request.DRILL and facts.drill is None:
                self.workload.record(
                    owner,
                    "DrillRefused",
                    f"Drill by {person.by or 'someone'} not started: a drill needs the rollout at "
                    "rest on its stable template, with no canary.",
                    warning=True,
                )
                continue
            if request is Request.OVERRIDE and facts.override is None:
                self.workload.record(
                    owner,
                    "OverrideRefused",
                    f"Override by {person.by or 'someone'} ignored: an override needs a reason "
                    "and a change waiting at the gates.",
                    warning=True,
                )
                continue
            self.workload.record(owner, f"{request.value.capitalize()}Requested", person.signed())
        if facts.override is not None:
            self.workload.record(
                owner,
                "GateOverridden",
                f"Gates overridden for {facts.target_template} by "
                f"{facts.override.by or 'someone'}: {facts.override.reason}",
                warning=True,
            )

    def _delay(
        self, spec: ChangeRolloutSpec, after: State, opens: datetime | None, now: datetime
    ) -> float:
        if after.phase is Phase.PROGRESSING:
            return duration_seconds(spec.analysis.interval)
        if after.phase is Phase.PROMOTING:
            return PROMOTION_RECHECK_SECONDS
        if after.phase in GATE_PHASES:
            until_open = (opens - now).total_seconds() + 0.5 if opens else GATE_RECHECK_SECONDS
            return max(0.5, min(GATE_RECHECK_SECONDS, until_open))
        return REST_RECHECK_SECONDS

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
