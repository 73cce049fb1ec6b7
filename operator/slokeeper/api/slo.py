"""The ServiceLevelObjective resource: what an SRE declares and how it converts to the core's view.

The spec is here (window, alerting, budget policy, maintenance); the indicator is in
``api.slo_indicator`` and the status the operator writes back in ``api.slo_status``. CEL rules sit
beside the fields they guard (so the API server refuses bad input with the field's name), and each
has a pydantic validator that says the same, so offline tools (`slokeeper rules`,
`slokeeper validate`) refuse exactly what the API server refuses.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from itertools import pairwise
from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator

from slokeeper.api.base import (
    API_VERSION,
    ObjectMeta,
    ResourceModel,
    cel,
    cel_rules,
)
from slokeeper.api.slo_bounds import (
    AlertAnnotations,
    AlertLabels,
    BurnRateDuration,
    ForDuration,
    ForecastDuration,
    PageAlertName,
    TicketAlertName,
    WindowDuration,
    cel_seconds,
)
from slokeeper.api.slo_indicator import Indicator
from slokeeper.api.slo_status import ServiceLevelObjectiveStatus
from slokeeper.slo import objective
from slokeeper.slo.durations import duration_seconds
from slokeeper.slo.objective import AlertKind, CalendarPeriod, PolicyAction


class Window(ResourceModel):
    """The compliance window: rolling (e.g. 28d) or the current calendar month or week."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "has(self.rolling) != has(self.calendar)",
                "set exactly one of rolling or calendar",
            ),
            cel(
                "!has(self.timeZone) || has(self.calendar)",
                "timeZone applies to calendar windows only",
                ".timeZone",
            ),
        )
    }

    rolling: WindowDuration | None = Field(
        default=None,
        description="A rolling window as a Prometheus duration, e.g. 28d or 30d (1m to 1y).",
    )
    calendar: CalendarPeriod | None = Field(
        default=None,
        description="A calendar window: the current Month or Week (weeks start Monday).",
    )
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone where calendar periods start, e.g. Europe/Berlin; default UTC.",
    )

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Self:
        if (self.rolling is None) == (self.calendar is None):
            raise ValueError("set exactly one of rolling or calendar")
        if self.time_zone is not None:
            if self.calendar is None:
                raise ValueError("timeZone applies to calendar windows only")
            try:
                zoneinfo.ZoneInfo(self.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        return self

    def to_window(self) -> objective.Window:
        if self.rolling is not None:
            return objective.RollingWindow(duration_seconds(self.rolling))
        assert self.calendar is not None  # the model validator guarantees one of them
        return objective.CalendarWindow(self.calendar, self.time_zone or "UTC")


class Severity(ResourceModel):
    """The severity labels put on page and ticket alerts, as the Alertmanager routes expect."""

    page: str = Field(
        default="critical", max_length=63, description="severity label of page alerts."
    )
    ticket: str = Field(
        default="warning", max_length=63, description="severity label of ticket alerts."
    )


class AlertNames(ResourceModel):
    """The alertname of page and ticket alerts, which Alertmanager routes and inhibitions match."""

    page: PageAlertName = Field(
        default=objective.DEFAULT_ALERT_NAMES[AlertKind.PAGE],
        description="alertname of page alerts, e.g. CheckoutHighErrorRate (a Prometheus alert "
        "name, [a-zA-Z_][a-zA-Z0-9_]*).",
    )
    ticket: TicketAlertName = Field(
        default=objective.DEFAULT_ALERT_NAMES[AlertKind.TICKET],
        description="alertname of ticket alerts; may equal page's (Sloth's way: one name, told "
        "apart by the severity label).",
    )


class BurnRateWindow(ResourceModel):
    """One row of a multi-window, multi-burn-rate alert table."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                # CEL's duration() knows no d, w or y: "1d" would fail the rule, not pass it.
                f"{cel_seconds('self.shortWindow')} < {cel_seconds('self.longWindow')}",
                "shortWindow must be shorter than longWindow",
                ".shortWindow",
            )
        )
    }

    kind: AlertKind = Field(description="page or ticket: which severity the alert carries.")
    long_window: BurnRateDuration = Field(description="The long window, e.g. 1h (1m to 1y).")
    short_window: BurnRateDuration = Field(
        description="The short window that stops the alert quickly, e.g. 5m (1m to 1y)."
    )
    burn_rate: float = Field(
        gt=0, description="Burn-rate factor both windows must exceed, e.g. 14.4."
    )

    @model_validator(mode="after")
    def _short_is_shorter(self) -> Self:
        if duration_seconds(self.short_window) >= duration_seconds(self.long_window):
            raise ValueError("shortWindow must be shorter than longWindow")
        return self

    def to_row(self) -> objective.BurnRateWindow:
        return objective.BurnRateWindow(
            self.kind,
            long_seconds=duration_seconds(self.long_window),
            short_seconds=duration_seconds(self.short_window),
            burn_rate=self.burn_rate,
        )


class ForecastAlert(ResourceModel):
    """A ticket when the budget left would be spent before the window ends at the current rate."""

    enabled: bool = Field(
        default=False,
        description="Write the ErrorBudgetExhaustionForecast alert (ticket severity).",
    )
    window: ForecastDuration | None = Field(
        default=None,
        description=(
            "Whose burn rate to extrapolate, e.g. 1d (1m to 1y). Unset: the longest long window "
            "of the burn-rate table (3d for a 30d window)."
        ),
    )
    for_: ForDuration = Field(
        default="30m",
        alias="for",
        description="How long the forecast must hold before the alert fires, e.g. 30m; 0s fires "
        "at once (at most 1y).",
    )

    def to_forecast(self) -> objective.ForecastAlert:
        return objective.ForecastAlert(
            enabled=self.enabled,
            window_seconds=duration_seconds(self.window) if self.window else None,
            for_seconds=duration_seconds(self.for_),
        )


class Alerting(ResourceModel):
    """How burn-rate alerts are written for this SLO."""

    enabled: bool = Field(default=True, description="Write burn-rate alerting rules.")
    runbook_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://",
        description="Link put on every alert as the runbook_url annotation.",
    )
    labels: AlertLabels = Field(
        default_factory=dict,
        description="Extra labels on every alert of this SLO (e.g. team: payments): at most 32, "
        "named as Prometheus labels are ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __), values "
        "up to 1024 characters. Reserved, and refused here: alertname, namespace, slo, "
        "slo_namespace, service, window, severity and slokeeper_alert; slokeeper (alertname: "
        "Prometheus) sets them on every alert, namespace and slo_namespace to this SLO's "
        "namespace, so Alertmanager routes and inhibitions that key on them cannot be steered "
        "by a tenant. Any other label (team included) is the tenant's own word: route across "
        "tenants on namespace. A value may be a Go template of the alert's own $labels and "
        "$value; calling query (reading series) is refused.",
    )
    annotations: AlertAnnotations = Field(
        default_factory=dict,
        description="Extra annotations on every alert of this SLO, over slokeeper's summary "
        "and description: at most 32, named as labels are, values up to 4096 characters. A "
        "value may be a Go template of the alert's own $labels and $value; calling query "
        "(reading series, of any namespace) is refused.",
    )
    severity: Severity = Field(
        default_factory=Severity, description="severity label values for page and ticket alerts."
    )
    names: AlertNames = Field(
        default_factory=AlertNames,
        description="alertname of page and ticket alerts; default ErrorBudgetBurnPage and "
        "ErrorBudgetBurnTicket. Set them to keep the names Alertmanager already routes on (a "
        "Sloth SLO's alerting.name is kept here on import).",
    )
    burn_rates: list[BurnRateWindow] | None = Field(
        default=None,
        min_length=1,
        max_length=8,
        description=(
            "A custom burn-rate table. Unset: the Google SRE Workbook table (page 14.4x over 1h/5m "
            "and 6x over 6h/30m, ticket 3x over 1d/2h and 1x over 3d/6h), scaled to the window."
        ),
    )
    forecast: ForecastAlert = Field(
        default_factory=ForecastAlert,
        description="An optional ticket when the error budget is forecast to run out before the "
        "window (calendar: the period) ends.",
    )

    def to_alerting(self) -> objective.Alerting:
        return objective.Alerting(
            enabled=self.enabled,
            runbook_url=self.runbook_url,
            labels=tuple(sorted(self.labels.items())),
            annotations=tuple(sorted(self.annotations.items())),
            page_severity=self.severity.page,
            ticket_severity=self.severity.ticket,
            page_name=self.names.page,
            ticket_name=self.names.ticket,
            burn_rates=tuple(row.to_row() for row in self.burn_rates) if self.burn_rates else None,
            forecast=self.forecast.to_forecast(),
        )


class BudgetPolicyThreshold(ResourceModel):
    """What happens to changes once the remaining error budget falls below a level."""

    below_percent: float = Field(
        le=100,
        ge=-1000,
        description=(
            "Applies when the error budget remaining is below this percentage (may be negative: "
            "an overspent budget)."
        ),
    )
    action: PolicyAction = Field(
        description="none, requireApproval (changes need a manual approval) or freeze (no changes)."
    )


class BudgetPolicy(ResourceModel):
    """The error-budget policy: ordered thresholds from the most budget left to the least."""

    thresholds: list[BudgetPolicyThreshold] = Field(
        default_factory=list,
        max_length=8,
        description=(
            "Thresholds listed from the highest belowPercent to the lowest; the last one the "
            "budget is below is in force. Empty: changes are never held by this SLO."
        ),
        json_schema_extra=cel_rules(
            cel(
                # Strictly descending: exactly i+1 entries are at or above entry i.
                "self.all(a, self.filter(b, b.belowPercent >= a.belowPercent).size() "
                "== self.indexOf(a) + 1)",
                "thresholds must be listed from the highest belowPercent to the lowest, "
                "with no value repeated",
            )
        ),
    )

    @field_validator("thresholds")
    @classmethod
    def _descending(cls, thresholds: list[BudgetPolicyThreshold]) -> list[BudgetPolicyThreshold]:
        levels = [threshold.below_percent for threshold in thresholds]
        if any(higher <= lower for higher, lower in pairwise(levels)):
            raise ValueError(
                "thresholds must be listed from the highest belowPercent to the lowest, "
                "with no value repeated"
            )
        return thresholds

    def to_thresholds(self) -> tuple[objective.PolicyThreshold, ...]:
        return tuple(
            objective.PolicyThreshold(threshold.below_percent, threshold.action)
            for threshold in self.thresholds
        )


class MaintenanceWindow(ResourceModel):
    """Planned work: the SLO's alerts are silenced in Alertmanager, its budget still counts."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("timestamp(self.end) > timestamp(self.start)", "end must be after start", ".end")
        )
    }

    start: datetime = Field(description="Start, RFC 3339 (e.g. 2026-12-06T02:00:00Z).")
    end: datetime = Field(description="End, RFC 3339; the silence expires then.")
    reason: str = Field(
        min_length=1,
        max_length=1024,
        description="Why, e.g. the change ticket; shown on the silence, in status and Events.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def to_window(self) -> objective.MaintenanceWindow:
        return objective.MaintenanceWindow(self.start, self.end, self.reason)


class ServiceLevelObjectiveSpec(ResourceModel):
    """What the service promises, how it is measured, and what happens when it is not met."""

    service: str = Field(
        min_length=1, max_length=253, description="The service this objective is about."
    )
    description: str = Field(
        default="", max_length=1024, description="What the objective means to users."
    )
    target: float = Field(
        gt=0, lt=100, description="Objective in percent, strictly between 0 and 100, e.g. 99.9."
    )
    window: Window = Field(
        default_factory=lambda: Window(rolling="28d"),
        description="Compliance window; default a rolling 28d.",
    )
    indicator: Indicator = Field(description="The service level indicator (SLI).")
    alerting: Alerting = Field(default_factory=Alerting, description="Burn-rate alerting settings.")
    budget_policy: BudgetPolicy = Field(
        default_factory=BudgetPolicy,
        description="What happens to changes as the error budget runs down.",
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list,
        max_length=32,
        description="Maintenance windows: the SLO's burn-rate and forecast alerts are silenced "
        "in Alertmanager while one lasts; errors still count against the budget.",
    )


class ServiceLevelObjective(ResourceModel):
    """A ServiceLevelObjective as stored in the API server."""

    model_config = ResourceModel.model_config | {"extra": "ignore"}

    kind_name: ClassVar[str] = "ServiceLevelObjective"
    plural: ClassVar[str] = "servicelevelobjectives"
    singular: ClassVar[str] = "servicelevelobjective"
    short_names: ClassVar[tuple[str, ...]] = ("slo", "slos")

    api_version: str = Field(default=API_VERSION)
    kind: str = Field(default="ServiceLevelObjective")
    metadata: ObjectMeta
    spec: ServiceLevelObjectiveSpec
    status: ServiceLevelObjectiveStatus | None = None

    def to_objective(self) -> objective.Objective:
        """The core's view of this resource (the one place the model meets the core); each part
        of the spec converts itself."""
        spec = self.spec
        return objective.Objective(
            namespace=self.metadata.namespace or "default",
            name=self.metadata.name,
            service=spec.service,
            target_percent=spec.target,
            window=spec.window.to_window(),
            indicator=spec.indicator.to_indicator(),
            alerting=spec.alerting.to_alerting(),
            budget_policy=spec.budget_policy.to_thresholds(),
            maintenance=tuple(window.to_window() for window in spec.maintenance),
        )
