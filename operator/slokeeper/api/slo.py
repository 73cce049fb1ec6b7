"""The ServiceLevelObjective resource: what an SRE declares and what the operator reports back.

CEL rules sit beside the fields they guard (so the API server refuses bad input with the field's
name), and each has a pydantic validator that says the same, so offline tools (`slokeeper rules`,
`slokeeper validate`) refuse exactly what the API server refuses.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, ClassVar, Self

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
from slokeeper.slo import objective
from slokeeper.slo.durations import duration_seconds

WINDOW_PLACEHOLDER = "{{.window}}"

PromQLTemplate = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        json_schema_extra=cel_rules(
            cel(
                f"self.contains('{WINDOW_PLACEHOLDER}')",
                f"the query must use the {WINDOW_PLACEHOLDER} placeholder as its range, "
                f"e.g. sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}]))",
            )
        ),
    ),
]


def _require_window_placeholder(query: str | None) -> str | None:
    if query is not None and WINDOW_PLACEHOLDER not in query:
        raise ValueError(
            f"the query must use the {WINDOW_PLACEHOLDER} placeholder as its range, "
            f"e.g. sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}]))"
        )
    return query


class RatioIndicator(ResourceModel):
    """An SLI as a ratio of events: errors (or good events) over all events."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "has(self.errors) != has(self.good)",
                "set exactly one of errors or good",
            )
        )
    }

    errors: PromQLTemplate | None = Field(
        default=None,
        description=(
            "PromQL counting bad events over {{.window}}, e.g. "
            'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}])).'
        ),
    )
    good: PromQLTemplate | None = Field(
        default=None,
        description="PromQL counting good events over {{.window}}; use instead of errors.",
    )
    total: PromQLTemplate = Field(
        description=(
            "PromQL counting all events over {{.window}}, e.g. "
            'sum(rate(http_requests_total{job="checkout"}[{{.window}}])).'
        ),
    )

    _placeholders = field_validator("errors", "good", "total")(_require_window_placeholder)

    @model_validator(mode="after")
    def _exactly_one_numerator(self) -> Self:
        if (self.errors is None) == (self.good is None):
            raise ValueError("set exactly one of errors or good")
        return self


class LatencyIndicator(ResourceModel):
    """An SLI from a Prometheus histogram: the share of requests faster than a threshold."""

    metric: str = Field(
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        max_length=256,
        description=(
            "Histogram base name without suffix, e.g. http_request_duration_seconds; the "
            "operator reads its _bucket and _count series."
        ),
    )
    selector: str = Field(
        default="",
        max_length=2048,
        description='Label matchers without braces, e.g. job="checkout",route!="/health".',
    )
    threshold: float = Field(
        gt=0,
        description=(
            "Requests at or below this value (in the histogram's unit, seconds for *_seconds) "
            "are good. Must be one of the histogram's bucket boundaries (an `le` value)."
        ),
    )


PromQLInstant = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        json_schema_extra=cel_rules(
            cel(
                f"!self.contains('{WINDOW_PLACEHOLDER}')",
                f"a freshness query is an instant query: it takes no {WINDOW_PLACEHOLDER} range",
            )
        ),
    ),
]


def _forbid_window_placeholder(query: str | None) -> str | None:
    if query is not None and WINDOW_PLACEHOLDER in query:
        raise ValueError(
            f"a freshness query is an instant query: it takes no {WINDOW_PLACEHOLDER} range"
        )
    return query


class FreshnessIndicator(ResourceModel):
    """A data-freshness SLI, e.g. "ETL output under 15 minutes old, 99 % of the time".

    Every rule evaluation is one event: bad while the data is stale. Give exactly one source:
    a timestamp or a lag gauge with a threshold, or a gauge that is already 1 when fresh and
    0 when stale (Pyrra's bool gauge).
    """

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "[has(self.timestamp), has(self.lag), has(self.boolGauge)]"
                ".filter(set, set).size() == 1",
                "set exactly one freshness source: timestamp, lag or boolGauge",
            ),
            cel(
                "has(self.threshold) == !has(self.boolGauge)",
                "threshold is required with timestamp or lag, and not allowed with boolGauge",
                ".threshold",
            ),
        )
    }

    timestamp: PromQLInstant | None = Field(
        default=None,
        description="PromQL giving the Unix time of the newest data, e.g. "
        'etl_last_success_timestamp_seconds{job="etl"}; stale when older than threshold. '
        "Several series: the newest counts.",
    )
    lag: PromQLInstant | None = Field(
        default=None,
        description="PromQL giving how far behind the data is, in seconds, e.g. "
        'kafka_consumergroup_lag_seconds{group="etl"}; stale above threshold. Several series: '
        "the largest counts.",
    )
    bool_gauge: PromQLInstant | None = Field(
        default=None,
        description="PromQL of a gauge that is 1 when fresh (good) and 0 when stale (bad). "
        "Several series: each counts for its share, as in Pyrra.",
    )
    threshold: Duration | None = Field(
        default=None, description="Data older (or further behind) than this is stale, e.g. 15m."
    )

    _instant = field_validator("timestamp", "lag", "bool_gauge")(_forbid_window_placeholder)

    def to_indicator(self) -> objective.FreshnessIndicator:
        threshold = duration_seconds(self.threshold) if self.threshold else None
        if self.timestamp is not None:
            source, query = objective.FreshnessSource.TIMESTAMP, self.timestamp
        elif self.lag is not None:
            source, query = objective.FreshnessSource.LAG, self.lag
        else:
            assert self.bool_gauge is not None  # the model validator guarantees one
            source, query = objective.FreshnessSource.BOOL_GAUGE, self.bool_gauge
        return objective.FreshnessIndicator(source, query, threshold)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [self.timestamp, self.lag, self.bool_gauge]
        if sum(source is not None for source in sources) != 1:
            raise ValueError("set exactly one freshness source: timestamp, lag or boolGauge")
        if (self.threshold is not None) == (self.bool_gauge is not None):
            raise ValueError(
                "threshold is required with timestamp or lag, and not allowed with boolGauge"
            )
        return self


class Indicator(ResourceModel):
    """The service level indicator: exactly one of ratio, latency or freshness."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "[has(self.ratio), has(self.latency), has(self.freshness)]"
                ".filter(set, set).size() == 1",
                "set exactly one indicator kind: ratio, latency or freshness",
            )
        )
    }

    ratio: RatioIndicator | None = Field(
        default=None, description="Errors (or good events) over total events, as PromQL."
    )
    latency: LatencyIndicator | None = Field(
        default=None, description="A latency threshold on a Prometheus histogram."
    )
    freshness: FreshnessIndicator | None = Field(
        default=None, description="How fresh some data is: the share of time it is not stale."
    )

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Self:
        if sum(kind is not None for kind in (self.ratio, self.latency, self.freshness)) != 1:
            raise ValueError("set exactly one indicator kind: ratio, latency or freshness")
        return self


class CalendarPeriod(StrEnum):
    MONTH = "Month"
    WEEK = "Week"


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

    rolling: Duration | None = Field(
        default=None, description="A rolling window as a Prometheus duration, e.g. 28d or 30d."
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


class Severity(ResourceModel):
    """The severity labels put on page and ticket alerts, as the Alertmanager routes expect."""

    page: str = Field(
        default="critical", max_length=63, description="severity label of page alerts."
    )
    ticket: str = Field(
        default="warning", max_length=63, description="severity label of ticket alerts."
    )


class AlertKind(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


class BurnRateWindow(ResourceModel):
    """One row of a multi-window, multi-burn-rate alert table."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "duration(self.shortWindow) < duration(self.longWindow)",
                "shortWindow must be shorter than longWindow",
                ".shortWindow",
            )
        )
    }

    kind: AlertKind = Field(description="page or ticket: which severity the alert carries.")
    long_window: Duration = Field(description="The long window, e.g. 1h.")
    short_window: Duration = Field(
        description="The short window that stops the alert quickly, e.g. 5m."
    )
    burn_rate: float = Field(
        gt=0, description="Burn-rate factor both windows must exceed, e.g. 14.4."
    )

    @model_validator(mode="after")
    def _short_is_shorter(self) -> Self:
        if duration_seconds(self.short_window) >= duration_seconds(self.long_window):
            raise ValueError("shortWindow must be shorter than longWindow")
        return self


class ForecastAlert(ResourceModel):
    """A ticket when the budget left would be spent before the window ends at the current rate."""

    enabled: bool = Field(
        default=False,
        description="Write the ErrorBudgetExhaustionForecast alert (ticket severity).",
    )
    window: Duration | None = Field(
        default=None,
        description=(
            "Whose burn rate to extrapolate, e.g. 1d. Unset: the longest long window of the "
            "burn-rate table (3d for a 30d window)."
        ),
    )
    for_: Duration = Field(
        default="30m",
        alias="for",
        description="How long the forecast must hold before the alert fires, e.g. 30m; 0s fires "
        "at once.",
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
    labels: dict[str, str] = Field(
        default_factory=dict, description="Extra labels on every alert (e.g. team: payments)."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Extra annotations on every alert."
    )
    severity: Severity = Field(
        default_factory=Severity, description="severity label values for page and ticket alerts."
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


class PolicyAction(StrEnum):
    NONE = "none"
    REQUIRE_APPROVAL = "requireApproval"
    FREEZE = "freeze"


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


class MaintenanceState(StrEnum):
    SCHEDULED = "Scheduled"
    ACTIVE = "Active"
    ENDED = "Ended"


class MaintenanceStatus(ResourceModel):
    """One maintenance window as the operator handled it."""

    start: datetime = Field(description="Start of the window.")
    end: datetime = Field(description="End of the window.")
    reason: str = Field(description="The window's reason.")
    state: MaintenanceState = Field(description="Scheduled, Active or Ended.")
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
        """The core's view of this resource (the one place the model meets the core)."""
        spec = self.spec
        window: objective.Window
        if spec.window.rolling is not None:
            window = objective.RollingWindow(duration_seconds(spec.window.rolling))
        else:
            assert spec.window.calendar is not None  # the model validator guarantees one of them
            window = objective.CalendarWindow(
                objective.CalendarPeriod(spec.window.calendar.value), spec.window.time_zone or "UTC"
            )
        indicator: objective.Indicator
        if spec.indicator.ratio is not None:
            ratio = spec.indicator.ratio
            indicator = objective.RatioIndicator(
                total=ratio.total, errors=ratio.errors, good=ratio.good
            )
        elif spec.indicator.latency is not None:
            latency = spec.indicator.latency
            indicator = objective.LatencyIndicator(
                metric=latency.metric, threshold=latency.threshold, selector=latency.selector
            )
        else:
            assert spec.indicator.freshness is not None  # the model validator guarantees one
            indicator = spec.indicator.freshness.to_indicator()
        alerting = spec.alerting
        burn_rates = (
            tuple(
                objective.BurnRateWindow(
                    objective.AlertKind(row.kind.value),
                    long_seconds=duration_seconds(row.long_window),
                    short_seconds=duration_seconds(row.short_window),
                    burn_rate=row.burn_rate,
                )
                for row in alerting.burn_rates
            )
            if alerting.burn_rates
            else None
        )
        return objective.Objective(
            namespace=self.metadata.namespace or "default",
            name=self.metadata.name,
            service=spec.service,
            target_percent=spec.target,
            window=window,
            indicator=indicator,
            alerting=objective.Alerting(
                enabled=alerting.enabled,
                runbook_url=alerting.runbook_url,
                labels=tuple(sorted(alerting.labels.items())),
                annotations=tuple(sorted(alerting.annotations.items())),
                page_severity=alerting.severity.page,
                ticket_severity=alerting.severity.ticket,
                burn_rates=burn_rates,
                forecast=objective.ForecastAlert(
                    enabled=alerting.forecast.enabled,
                    window_seconds=duration_seconds(alerting.forecast.window)
                    if alerting.forecast.window
                    else None,
                    for_seconds=duration_seconds(alerting.forecast.for_),
                ),
            ),
            budget_policy=tuple(
                objective.PolicyThreshold(t.below_percent, objective.PolicyAction(t.action.value))
                for t in spec.budget_policy.thresholds
            ),
            maintenance=tuple(
                objective.MaintenanceWindow(w.start, w.end, w.reason) for w in spec.maintenance
            ),
        )
