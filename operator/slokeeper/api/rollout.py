"""The ChangeRollout resource: how changes to one Deployment go out (target, canary steps,
analysis, rollback) and how the spec converts to the core's canary plan.

The gates a change must pass are in ``api.rollout_gates`` and the record of each change in
``api.rollout_status``. As in ``api.slo``, each CEL rule has a pydantic validator saying the same
thing, so the API server and offline tools refuse the same input with the same words.
"""

from __future__ import annotations

from itertools import pairwise
from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator

from slokeeper.api.base import (
    API_VERSION,
    Duration,
    ObjectMeta,
    ResourceModel,
    cel,
    cel_rules,
)
from slokeeper.api.rollout_bounds import AnalysisInterval, AnalysisWindow, ProgressDeadline
from slokeeper.api.rollout_gates import Gates, Risk
from slokeeper.api.rollout_status import ChangeRolloutStatus
from slokeeper.rollout.states import NoDataAction, Plan
from slokeeper.slo.durations import duration_seconds

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


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
        default="5m",
        description="How long the step lasts while its analyses keep passing, counted from when "
        "every canary pod of the step is Ready.",
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

    interval: AnalysisInterval = Field(
        default="30s", description="How often the canary is analysed (1s to 1h)."
    )
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
            "Rollback (once the canary has been Ready for a whole analysis window: before, no "
            "traffic may only mean not scraped yet), or WaitForPerson (hold with no time limit)."
        ),
    )
    max_inconclusive: Duration = Field(
        default="30m",
        description=(
            "After holding this long without a verdict (Hold), the change is rolled back."
        ),
    )
    window: AnalysisWindow = Field(
        default="1m",
        description=(
            "How far back each analysis looks at the canary's requests (10s to 1d); at least two "
            "scrape intervals. Shorter reacts faster, longer needs less traffic per verdict."
        ),
    )


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
    progress_deadline: ProgressDeadline = Field(
        default="10m",
        description=(
            "How long a step's canary pods may stay not Ready (an image that does not start, a "
            "crash loop, no room to schedule), or a promotion may go without progress, before "
            "the change is rolled back, naming what the pods say (10s to 1d)."
        ),
    )

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
            progress_deadline_seconds=duration_seconds(self.progress_deadline),
            evidence_seconds=duration_seconds(analysis.window),
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
