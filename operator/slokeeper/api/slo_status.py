"""What the operator reports back in a ServiceLevelObjective's status: the SLI and budget left,
burn rates, the forecast, firing alerts, maintenance windows as handled, and where the rules
went. The SLO loop (``loops.slo``) writes it; the CLI reads it."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from slokeeper.api.base import Conditions, Duration, ResourceModel
from slokeeper.slo.maintenance import WindowState
from slokeeper.slo.objective import AlertKind, PolicyAction


class ExhaustionForecast(ResourceModel):
    """When the error budget runs out if one window's burn rate holds."""

    window: Duration = Field(description="The burn-rate window extrapolated, e.g. 1h.")
    burn_rate: float = Field(description="Its burn rate.")
    seconds_left: float | None = Field(
        default=None,
        description="Seconds until the budget is spent at that rate (two significant figures); "
        "absent when it is not being spent.",
    )
    before_window_ends: bool = Field(
        description="Spent before the calendar period ends (rolling: within one window length)."
    )


class WindowBurnRate(ResourceModel):
    """The burn rate measured over one alert window."""

    window: Duration = Field(description="The window, e.g. 1h.")
    burn_rate: float = Field(
        description="Error rate over the window divided by the allowed error rate."
    )


class FiringAlert(ResourceModel):
    """A burn-rate alert whose condition holds at the last evaluation."""

    kind: AlertKind = Field(description="page or ticket.")
    long_window: Duration = Field(description="Long window of the firing row.")
    short_window: Duration = Field(description="Short window of the firing row.")
    burn_rate_threshold: float = Field(description="Burn-rate factor of the firing row.")
    since: datetime | None = Field(default=None, description="When the condition was first seen.")


class RulesReference(ResourceModel):
    """Where the generated Prometheus rules were written."""

    kind: str = Field(description="PrometheusRule or ConfigMap.")
    name: str = Field(description="Name of the object, in the SLO's namespace.")
    recording_rules: int = Field(default=0, ge=0, description="Number of recording rules written.")
    alerting_rules: int = Field(default=0, ge=0, description="Number of alerting rules written.")


class MaintenanceStatus(ResourceModel):
    """One maintenance window as the operator handled it."""

    start: datetime = Field(description="Start of the window.")
    end: datetime = Field(description="End of the window.")
    reason: str = Field(description="The window's reason.")
    state: WindowState = Field(description="Scheduled, Active or Ended.")
    silence_id: str | None = Field(
        default=None, description="The Alertmanager silence of the window, once made."
    )
    silence_problem: str | None = Field(
        default=None, description="Why the window is not silenced, if it is not."
    )
    budget_spent_ratio: float | None = Field(
        default=None,
        description="Share of the whole error budget spent during the window (so far).",
    )


class ServiceLevelObjectiveStatus(ResourceModel):
    """What the operator last measured. Fractions are 0..1; budget remaining may be negative."""

    observed_generation: int | None = Field(
        default=None, description="The .metadata.generation this status describes."
    )
    conditions: Conditions = Field(default_factory=list)
    sli_ratio: float | None = Field(
        default=None, description="Measured SLI over the window, as a fraction (0.9993 = 99.93%)."
    )
    error_budget_remaining_ratio: float | None = Field(
        default=None,
        description="Share of the error budget left (1 untouched, 0 spent, below 0 overspent).",
    )
    burn_rates: list[WindowBurnRate] = Field(
        default_factory=list, max_length=16, description="Burn rate per alert window."
    )
    budget_exhaustion: list[ExhaustionForecast] = Field(
        default_factory=list,
        max_length=2,
        description="When the budget runs out at the shortest and the longest alert window's "
        "burn rate.",
    )
    maintenance: list[MaintenanceStatus] = Field(
        default_factory=list,
        max_length=32,
        description="Each maintenance window: its state, its silence and the budget it cost.",
    )
    firing_alerts: list[FiringAlert] = Field(
        default_factory=list, max_length=16, description="Burn-rate alerts whose condition holds."
    )
    policy_action: PolicyAction | None = Field(
        default=None, description="Budget-policy action in force for changes to this service."
    )
    period_start: datetime | None = Field(
        default=None, description="Start of the window the figures cover."
    )
    period_end: datetime | None = Field(
        default=None, description="End of the calendar period (calendar windows only)."
    )
    last_evaluation_time: datetime | None = Field(
        default=None, description="When the figures were last read from Prometheus."
    )
    rules: RulesReference | None = Field(default=None, description="The generated rules object.")
