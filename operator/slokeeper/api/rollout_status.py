"""What the operator records in a ChangeRollout's status: the phase, the stable revision, the
change in progress and the last 20 finished ones (steps, analyses with their figures, approvals,
overrides, decisions, the error budget each burned), counts by outcome, refused revisions and
rollback drills. The rollout loop (``loops.rollout``) writes it; the CLI reads it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from slokeeper.api.base import Conditions, ResourceModel
from slokeeper.rollout.analysis import Outcome as AnalysisOutcome
from slokeeper.rollout.states import Phase


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

    @property
    def who(self) -> str:
        """The signer as messages name them: ``by``, or "someone" when it was not given."""
        return self.by or "someone"

    def signed(self) -> str:
        """``by: reason`` as Events and gate messages show it (as ``PersonRequest.signed``)."""
        return f"{self.who}: {self.reason}" if self.reason else self.who


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
    out_of_band: int = Field(
        default=0,
        ge=0,
        description="Times someone changed the guarded Deployment or its canary by hand (a "
        "resume, an edited canary) and slokeeper put it back.",
    )

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
    stable_template_hash: str | None = Field(
        default=None,
        max_length=64,
        description="The stable template when the change began (what `slokeeper rollout undo` "
        "may go back to).",
    )
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
    step_number: int = Field(
        default=1, ge=1, description="The current (or last) step counted from 1, as people do."
    )
    step_started_at: datetime | None = Field(
        default=None, description="When the current step began: a restart resumes its pause."
    )
    inconclusive_since: datetime | None = Field(
        default=None, description="Since when the canary has been held without a verdict."
    )
    held_until: datetime | None = Field(
        default=None,
        description="While the canary is held without a verdict (on...: Hold): when it is rolled "
        "back unless a verdict comes first. Unset while it waits for a person (WaitForPerson).",
    )
    canary_unready_since: datetime | None = Field(
        default=None,
        description="Since when the step's canary has had fewer Ready pods than it asks for "
        "(spec.progressDeadline runs from here).",
    )
    canary_ready_since: datetime | None = Field(
        default=None,
        description="Since when the step's canary has had all its pods Ready (no traffic is a "
        "verdict only an analysis window after this).",
    )
    promotion_started_at: datetime | None = Field(
        default=None,
        description="When the target was resumed to promote (spec.progressDeadline runs from "
        "here, or from its rollout's last progress).",
    )
    out_of_band_changes: int = Field(
        default=0,
        ge=0,
        description="Times someone changed the guarded Deployment or its canary by hand during "
        "this change and slokeeper put it back.",
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
