"""The ChangeRollout resource: how changes to one Deployment go out, and the record of each change.

As in ``api.slo``, each CEL rule has a pydantic validator saying the same thing, so the API server
and offline tools refuse the same input with the same words.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time
from enum import StrEnum
from itertools import pairwise
from typing import Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from slokeeper.api.base import (
    API_VERSION,
    Conditions,
    Duration,
    ObjectMeta,
    ResourceModel,
    cel,
    cel_rules,
)
from slokeeper.rollout.analysis import Outcome as AnalysisOutcome
from slokeeper.rollout.change_calendar import DAY_NAMES, ChangeCalendar, Freeze
from slokeeper.rollout.change_calendar import ChangeWindow as CoreChangeWindow
from slokeeper.rollout.state_machine import NoDataAction, Phase, Plan
from slokeeper.slo.durations import duration_seconds

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Risk(StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


class TargetRef(ResourceModel):
    """The Deployment this ChangeRollout guards, in the same namespace."""

    api_version: str = Field(
        default="apps/v1", pattern=r"^apps/v1$", description="API version of the target: apps/v1."
    )
    kind: str = Field(
        default="Deployment", pattern=r"^Deployment$", description="Kind of the target: Deployment."
    )
    name: str = Field(
        min_length=1, max_length=246, pattern=DNS_LABEL, description="Name of the Deployment."
    )


class CanaryStep(ResourceModel):
    """One canary step: the share of Ready pods running the new version, and how long to hold it."""

    weight: int = Field(
        gt=0,
        lt=100,
        description="Percent of Ready pods that run the canary at this step (1-99).",
    )
    pause: Duration = Field(
        default="5m", description="How long the step lasts while its analyses keep passing."
    )


def _default_steps() -> list[CanaryStep]:
    return [CanaryStep(weight=5), CanaryStep(weight=25), CanaryStep(weight=50)]


class SLOCheck(ResourceModel):
    """An SLO whose SLI the canary's own pods are held to."""

    name: str = Field(
        min_length=1,
        max_length=253,
        description="Name of a ServiceLevelObjective in this namespace.",
    )
    max_burn_rate: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Highest burn rate the canary may show on this SLO's SLI (1 = spending the budget "
            "exactly as fast as the target allows)."
        ),
    )


class MetricCheck(ResourceModel):
    """An extra PromQL check: the query must return one value within [min, max]."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("has(self.min) || has(self.max)", "set min, max or both"),
            cel(
                "!has(self.min) || !has(self.max) || self.min <= self.max",
                "min must not exceed max",
                ".min",
            ),
        )
    }

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=DNS_LABEL,
        description="Name used in status and Events.",
    )
    query: str = Field(
        min_length=1,
        max_length=4096,
        description=(
            "PromQL returning a single value; {{.canaryPods}} is replaced by the canary's pod "
            "regex, {{.namespace}} by the namespace."
        ),
    )
    min: float | None = Field(default=None, description="The check fails below this value.")
    max: float | None = Field(default=None, description="The check fails above this value.")

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("set min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class Analysis(ResourceModel):
    """What is measured at each step, and how many failures abort the change."""

    interval: Duration = Field(default="30s", description="How often the canary is analysed.")
    slos: list[SLOCheck] = Field(
        default_factory=list,
        max_length=16,
        description="SLOs whose SLI the canary is held to, on its own pods and against stable.",
    )
    checks: list[MetricCheck] = Field(
        default_factory=list, max_length=16, description="Extra PromQL checks with thresholds."
    )
    canary_pod_regex: str | None = Field(
        default=None,
        max_length=512,
        description='Regex on the pod label selecting canary pods; default "<target>-canary-.*".',
    )
    min_request_count: int = Field(
        default=100,
        ge=0,
        description="Fewer canary requests than this give NotEnoughTraffic, not a verdict.",
    )
    failure_limit: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Failed analyses in one change that abort it (1 = roll back on the first).",
    )
    on_prometheus_unreachable: NoDataAction = Field(
        default=NoDataAction.HOLD,
        description=(
            "When Prometheus cannot answer: Hold the step and ask again (rolled back after "
            "maxInconclusive), Rollback at once, or WaitForPerson (hold with no time limit)."
        ),
    )
    on_not_enough_traffic: NoDataAction = Field(
        default=NoDataAction.HOLD,
        description=(
            "When the canary has too few requests: Hold (rolled back after maxInconclusive), "
            "Rollback at once, or WaitForPerson (hold with no time limit)."
        ),
    )
    max_inconclusive: Duration = Field(
        default="30m",
        description=(
            "After holding this long without a verdict (Hold), the change is rolled back."
        ),
    )
    window: Duration = Field(
        default="1m",
        description=(
            "How far back each analysis looks at the canary's requests; at least two scrape "
            "intervals. Shorter reacts faster, longer needs less traffic per verdict."
        ),
    )


class Weekday(StrEnum):
    MONDAY = "Mon"
    TUESDAY = "Tue"
    WEDNESDAY = "Wed"
    THURSDAY = "Thu"
    FRIDAY = "Fri"
    SATURDAY = "Sat"
    SUNDAY = "Sun"


class ChangeWindow(ResourceModel):
    """A recurring window in which changes may start, e.g. Tue and Thu 02:00-04:00."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("self.start != self.end", "start and end must differ", ".end"),
        )
    }

    days: list[Weekday] = Field(
        min_length=1,
        max_length=7,
        description="Days on which the window opens.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    start: str = Field(
        pattern=CLOCK_TIME, description="Opening time, HH:MM in the gates' time zone."
    )
    end: str = Field(
        pattern=CLOCK_TIME,
        description="Closing time, HH:MM; earlier than start means the window runs past midnight.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class FreezePeriod(ResourceModel):
    """A period in which no change may start or be promoted (a holiday freeze, an event)."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "timestamp(self.end) > timestamp(self.start)",
                "end must be after start",
                ".end",
            )
        )
    }

    start: datetime = Field(description="Start, RFC 3339 (e.g. 2026-12-20T00:00:00Z).")
    end: datetime = Field(description="End, RFC 3339.")
    reason: str = Field(default="", max_length=1024, description="Shown in status and Events.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


ROLE_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ApprovalRole(ResourceModel):
    """A role whose members may approve: Kubernetes groups and users, as the API server
    authenticates them (a client certificate's O= and CN=, an OIDC group claim)."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("size(self.groups) + size(self.users) > 0", "a role needs groups or users")
        )
    }

    name: str = Field(
        pattern=ROLE_NAME, max_length=40, description="The role, e.g. on-call or peer."
    )
    groups: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Kubernetes groups whose members may approve in this role.",
        json_schema_extra={
            "x-kubernetes-list-type": "set",
            "items": {"type": "string", "maxLength": 253},
        },
    )
    users: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Kubernetes usernames that may approve in this role.",
        json_schema_extra={
            "x-kubernetes-list-type": "set",
            "items": {"type": "string", "maxLength": 253},
        },
    )

    @model_validator(mode="after")
    def _has_members(self) -> Self:
        if not self.groups and not self.users:
            raise ValueError("a role needs groups or users")
        return self


def _role_names() -> dict[str, Any]:
    return {
        "x-kubernetes-list-type": "set",
        "items": {"type": "string", "maxLength": 40, "pattern": ROLE_NAME},
    }


class RiskRoles(ResourceModel):
    """For each risk level, the roles that must each approve (one approval per role, from
    distinct people)."""

    low: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles that must each approve a Low-risk change.",
        json_schema_extra=_role_names(),
    )
    medium: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles that must each approve a Medium-risk change.",
        json_schema_extra=_role_names(),
    )
    high: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles that must each approve a High-risk change.",
        json_schema_extra=_role_names(),
    )

    def for_risk(self, risk: Risk) -> list[str]:
        return {Risk.LOW: self.low, Risk.MEDIUM: self.medium, Risk.HIGH: self.high}[risk]


class Approval(ResourceModel):
    """Which risk levels need approvals before a change starts, and from whom."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "!has(self.riskRoles) || (self.riskRoles.low + self.riskRoles.medium"
                " + self.riskRoles.high).all(r, self.roles.exists(x, x.name == r))",
                "every role in riskRoles must be defined in roles",
                ".riskRoles",
            )
        )
    }

    required_for: list[Risk] = Field(
        default_factory=lambda: [Risk.HIGH],
        max_length=3,
        description="Risk levels whose changes wait for `slokeeper rollout approve` (any one "
        "approval), unless riskRoles names roles for that level.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    roles: list[ApprovalRole] = Field(
        default_factory=list,
        max_length=16,
        description="Who may approve in each role.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    risk_roles: RiskRoles | None = Field(
        default=None,
        description="Per risk level, the roles that must each approve, e.g. high: "
        "[engineering-manager, on-call]. The approvals are checked by the API server "
        "(the slokeeper-approvals ValidatingAdmissionPolicy): each names its giver, who must be in "
        "the role.",
    )

    @model_validator(mode="after")
    def _roles_defined(self) -> Self:
        if self.risk_roles is not None:
            defined = {role.name for role in self.roles}
            named = self.risk_roles.low + self.risk_roles.medium + self.risk_roles.high
            if any(role not in defined for role in named):
                raise ValueError("every role in riskRoles must be defined in roles")
        return self

    def roles_for(self, risk: Risk) -> list[str]:
        return self.risk_roles.for_risk(risk) if self.risk_roles else []


class DrillGate(ResourceModel):
    """Changes of these risk levels need a successful rollback drill within a period."""

    required_for: list[Risk] = Field(
        default_factory=list,
        max_length=3,
        description="Risk levels that need a recent successful `slokeeper rollout drill`.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    within: Duration = Field(default="30d", description="How recent the drill must be.")


class Gates(ResourceModel):
    """What must be open before a change may start or be promoted."""

    slo_budget_policies: list[str] = Field(
        default_factory=list,
        max_length=16,
        description=(
            "ServiceLevelObjectives (in this namespace) whose error-budget policy this rollout "
            "honours: freeze holds changes, requireApproval asks for an approval."
        ),
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    time_zone: str = Field(
        default="UTC", max_length=64, description="IANA time zone of the change windows."
    )
    change_windows: list[ChangeWindow] = Field(
        default_factory=list,
        max_length=16,
        description="When set, changes start only inside one of these windows.",
    )
    freezes: list[FreezePeriod] = Field(
        default_factory=list, max_length=32, description="Periods in which no change may proceed."
    )
    approval: Approval = Field(default_factory=Approval, description="Manual approval by risk.")
    drill: DrillGate = Field(
        default_factory=DrillGate, description="Rollback drills required before risky changes."
    )

    def change_calendar(self) -> ChangeCalendar:
        """The core's view of the change windows and freezes."""
        return ChangeCalendar(
            windows=tuple(
                CoreChangeWindow(
                    frozenset(DAY_NAMES.index(day.value) for day in window.days),
                    time.fromisoformat(window.start),
                    time.fromisoformat(window.end),
                )
                for window in self.change_windows
            ),
            freezes=tuple(
                Freeze(
                    freeze.start if freeze.start.tzinfo else freeze.start.replace(tzinfo=UTC),
                    freeze.end if freeze.end.tzinfo else freeze.end.replace(tzinfo=UTC),
                    freeze.reason,
                )
                for freeze in self.freezes
            ),
            time_zone=self.time_zone,
        )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, time_zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {time_zone!r}") from error
        return time_zone


class Rollback(ResourceModel):
    """What a failed change does."""

    automatic: bool = Field(
        default=True,
        description="Remove the canary at the failure limit; false leaves it to a person.",
    )


class ChangeRolloutSpec(ResourceModel):
    """How changes to one Deployment are rolled out and gated."""

    target_ref: TargetRef = Field(
        description="The Deployment to guard; immutable.",
        json_schema_extra=cel_rules(
            cel(
                "self == oldSelf",
                "targetRef is immutable: create another ChangeRollout to guard another Deployment",
            )
        ),
    )
    risk: Risk = Field(
        default=Risk.MEDIUM, description="Risk level of changes: Low, Medium or High."
    )
    steps: list[CanaryStep] = Field(
        default_factory=_default_steps,
        min_length=1,
        max_length=20,
        description="Canary steps before promotion; default 5%, 25%, 50%, then promote.",
        json_schema_extra=cel_rules(
            cel(
                # Strictly increasing: exactly i+1 steps have a weight at or below step i's.
                "self.all(s, self.filter(t, t.weight <= s.weight).size() == self.indexOf(s) + 1)",
                "step weights must strictly increase (e.g. 5, 25, 50)",
            )
        ),
    )
    analysis: Analysis = Field(
        default_factory=Analysis, description="What is analysed at each step."
    )
    gates: Gates = Field(
        default_factory=Gates, description="What must be open before a change proceeds."
    )
    rollback: Rollback = Field(default_factory=Rollback, description="What a failed change does.")

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[CanaryStep]) -> list[CanaryStep]:
        weights = [step.weight for step in steps]
        if any(later <= earlier for earlier, later in pairwise(weights)):
            raise ValueError("step weights must strictly increase (e.g. 5, 25, 50)")
        return steps

    def to_plan(self) -> Plan:
        """The core's view of the canary plan (the one place the spec meets the state machine)."""
        analysis = self.analysis
        return Plan(
            weights=tuple(float(step.weight) for step in self.steps),
            pauses_seconds=tuple(duration_seconds(step.pause) for step in self.steps),
            failure_limit=analysis.failure_limit,
            on_prometheus_unreachable=analysis.on_prometheus_unreachable,
            on_not_enough_traffic=analysis.on_not_enough_traffic,
            max_inconclusive_seconds=duration_seconds(analysis.max_inconclusive),
            automatic_rollback=self.rollback.automatic,
        )


class Measurement(ResourceModel):
    """One figure of an analysis, with the bound it was held to."""

    name: str = Field(description="What was measured, e.g. slo/checkout-availability burn rate.")
    value: float | None = Field(default=None, description="The measured value; unset without data.")
    threshold: float | None = Field(default=None, description="The bound it was compared with.")
    passed: bool | None = Field(default=None, description="Whether the value was within bounds.")


class AnalysisRecord(ResourceModel):
    """The result of one analysis run."""

    time: datetime = Field(description="When the analysis ran.")
    step: int = Field(ge=0, description="Index of the step it ran in.")
    outcome: AnalysisOutcome = Field(description="Pass, Fail or why no verdict could be given.")
    canary_requests: float | None = Field(default=None, description="Canary requests counted.")
    measurements: list[Measurement] = Field(
        default_factory=list, max_length=32, description="Each figure behind the outcome."
    )
    message: str = Field(default="", max_length=4096, description="Upstream message or summary.")


class Decision(ResourceModel):
    """A decision the operator took, with its reason (also sent as an Event)."""

    time: datetime = Field(description="When it was taken.")
    action: str = Field(max_length=64, description="What was done, e.g. Advance, Rollback, Hold.")
    reason: str = Field(max_length=128, description="CamelCase reason, e.g. AnalysisFailed.")
    message: str = Field(default="", max_length=4096, description="Why, with figures.")


class PersonAction(ResourceModel):
    """Something a person did to a change (approve, override, abort …): who, when and why."""

    by: str = Field(default="", max_length=253, description="Who, as given with the command.")
    at: datetime = Field(description="When the operator acted on it.")
    reason: str = Field(default="", max_length=1024, description="Why, as given.")
    role: str | None = Field(
        default=None, max_length=40, description="The approval role it was given in, if any."
    )


class StepRecord(ResourceModel):
    """One canary step of a change and how its analyses went."""

    step: int = Field(ge=0, description="Index of the step (0 = first).")
    weight: int = Field(ge=0, le=100, description="Planned share of Ready pods, in percent.")
    canary_weight_percent: float = Field(
        default=0, ge=0, le=100, description="Actual share of Ready pods running the canary."
    )
    started_at: datetime = Field(description="When the step began.")
    finished_at: datetime | None = Field(default=None, description="When the step ended.")
    passed_analyses: int = Field(default=0, ge=0, description="Analyses that passed.")
    failed_analyses: int = Field(default=0, ge=0, description="Analyses that failed.")
    inconclusive_analyses: int = Field(
        default=0, ge=0, description="Analyses without a verdict (no traffic, no Prometheus …)."
    )
    last_analysis: AnalysisRecord | None = Field(
        default=None, description="The step's latest analysis, with its figures."
    )


class ChangeOutcome(StrEnum):
    PROMOTED = "Promoted"
    ROLLED_BACK = "RolledBack"
    ABORTED = "Aborted"
    SUPERSEDED = "Superseded"


class DrillRecord(ResourceModel):
    """One rollback drill: a canary of the stable template, rolled back, time to restore."""

    stage: str = Field(
        max_length=32, description="Starting, RollingBack, Succeeded, Failed or Interrupted."
    )
    started_at: datetime = Field(description="When the drill was asked for.")
    by: str = Field(default="", max_length=253, description="Who asked for it.")
    reason: str = Field(default="", max_length=1024, description="Why, as given.")
    rolled_back_at: datetime | None = Field(default=None, description="The rollback decision.")
    restored_at: datetime | None = Field(
        default=None, description="Canary gone and every stable replica available."
    )
    time_to_restore_seconds: float | None = Field(
        default=None, description="restoredAt - rolledBackAt."
    )
    message: str = Field(default="", max_length=1024, description="What happened.")


class ChangeCounts(ResourceModel):
    """Every change that ended here, by outcome: history keeps the last 20, these keep count."""

    promoted: int = Field(default=0, ge=0, description="Changes promoted.")
    rolled_back: int = Field(default=0, ge=0, description="Changes rolled back on analysis.")
    aborted: int = Field(default=0, ge=0, description="Changes aborted by a person.")
    superseded: int = Field(default=0, ge=0, description="Changes replaced by a newer template.")

    def count(self, outcome: ChangeOutcome) -> None:
        field = {
            ChangeOutcome.PROMOTED: "promoted",
            ChangeOutcome.ROLLED_BACK: "rolled_back",
            ChangeOutcome.ABORTED: "aborted",
            ChangeOutcome.SUPERSEDED: "superseded",
        }[outcome]
        setattr(self, field, getattr(self, field) + 1)


class Revision(ResourceModel):
    """A pod template revision, named by its hash and images."""

    template_hash: str = Field(max_length=64, description="Hash of the pod template.")
    images: list[str] = Field(default_factory=list, max_length=32, description="Container images.")


class BudgetBurn(ResourceModel):
    """What a change cost one SLO: its canary's bad events against the SLO's error budget."""

    slo: str = Field(max_length=253, description="The ServiceLevelObjective.")
    canary_bad_events: float | None = Field(
        default=None, description="Bad events the canary served while the change ran."
    )
    budget_events: float | None = Field(
        default=None,
        description="The SLO's error budget in events: allowed error ratio times the events "
        "over its window, when the change ended.",
    )
    burned_ratio: float | None = Field(
        default=None, description="canaryBadEvents / budgetEvents (0.02 = 2 % of the budget)."
    )


class ChangeRecord(ResourceModel):
    """The record of one change: enough to compute change failure rate and time to restore."""

    revision: Revision = Field(description="The template that was rolled out.")
    canary_pod_template_hash: str | None = Field(
        default=None,
        max_length=64,
        description="pod-template-hash of the change's canary Pods (their names carry it).",
    )
    budget_burned: list[BudgetBurn] = Field(
        default_factory=list,
        max_length=16,
        description="Per SLO of the analysis: the error budget the change itself burned.",
    )
    started_at: datetime = Field(description="When the change was detected.")
    finished_at: datetime | None = Field(default=None, description="When it ended.")
    restored_at: datetime | None = Field(
        default=None,
        description="After a rollback: when the canary was gone and every stable replica "
        "available again (time to restore ends here).",
    )
    outcome: ChangeOutcome | None = Field(
        default=None, description="How it ended; unset while running."
    )
    reason: str = Field(default="", max_length=128, description="CamelCase reason of the outcome.")
    step: int = Field(default=0, ge=0, description="Index of the current (or last) step.")
    step_started_at: datetime | None = Field(
        default=None, description="When the current step began: a restart resumes its pause."
    )
    inconclusive_since: datetime | None = Field(
        default=None, description="Since when the canary has been held without a verdict."
    )

    canary_weight_percent: float = Field(
        default=0,
        ge=0,
        le=100,
        description="Actual share of Ready pods running the canary, in percent.",
    )
    failed_analyses: int = Field(default=0, ge=0, description="Failed analyses so far.")
    steps: list[StepRecord] = Field(
        default_factory=list, max_length=20, description="Each step reached, with its analyses."
    )
    analyses: list[AnalysisRecord] = Field(
        default_factory=list, max_length=10, description="The latest analyses of this change."
    )
    approvals: list[PersonAction] = Field(
        default_factory=list, max_length=16, description="Approvals given for this change."
    )
    override: PersonAction | None = Field(
        default=None, description="The override that let this change past a freeze or the gates."
    )
    decisions: list[Decision] = Field(
        default_factory=list, max_length=50, description="Every decision taken for this change."
    )


class ChangeRolloutStatus(ResourceModel):
    """The state of the guarded Deployment and the record of its changes."""

    observed_generation: int | None = Field(
        default=None, description="The .metadata.generation seen."
    )
    conditions: Conditions = Field(default_factory=list)
    phase: Phase = Field(default=Phase.IDLE, description="Where the current change stands.")
    reason: str = Field(default="", max_length=128, description="CamelCase reason of the phase.")
    message: str = Field(default="", max_length=4096, description="What is happening and why.")
    paused: PersonAction | None = Field(
        default=None, description="Set while a person has paused this rollout."
    )
    stable: Revision | None = Field(default=None, description="The adopted, stable pod template.")
    current: ChangeRecord | None = Field(default=None, description="The change in progress.")
    history: list[ChangeRecord] = Field(
        default_factory=list, max_length=20, description="Finished changes, newest first."
    )
    change_counts: ChangeCounts = Field(
        default_factory=ChangeCounts, description="Every finished change, by outcome."
    )
    refused_revisions: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Template hashes rolled back; not retried until the template changes again.",
    )
    drills: list[DrillRecord] = Field(
        default_factory=list, max_length=10, description="Rollback drills, newest first."
    )


class ChangeRollout(ResourceModel):
    """A ChangeRollout as stored in the API server."""

    model_config = ResourceModel.model_config | {"extra": "ignore"}

    kind_name: ClassVar[str] = "ChangeRollout"
    plural: ClassVar[str] = "changerollouts"
    singular: ClassVar[str] = "changerollout"
    short_names: ClassVar[tuple[str, ...]] = ("crollout", "crollouts")

    api_version: str = Field(default=API_VERSION)
    kind: str = Field(default="ChangeRollout")
    metadata: ObjectMeta
    spec: ChangeRolloutSpec
    status: ChangeRolloutStatus | None = None
