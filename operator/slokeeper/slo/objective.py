"""The SLO as the core sees it: plain frozen values, converted once from the resource model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CalendarPeriod(StrEnum):
    MONTH = "Month"
    WEEK = "Week"


class PolicyAction(StrEnum):
    NONE = "none"
    REQUIRE_APPROVAL = "requireApproval"
    FREEZE = "freeze"


class AlertKind(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


# The alertname of each kind unless the SLO names its own (alerting.names).
DEFAULT_ALERT_NAMES = {
    AlertKind.PAGE: "ErrorBudgetBurnPage",
    AlertKind.TICKET: "ErrorBudgetBurnTicket",
}


@dataclass(frozen=True)
class RollingWindow:
    seconds: float


@dataclass(frozen=True)
class CalendarWindow:
    period: CalendarPeriod
    time_zone: str = "UTC"


Window = RollingWindow | CalendarWindow


@dataclass(frozen=True)
class RatioIndicator:
    """PromQL templates with ``{{.window}}``; exactly one of errors and good is set."""

    total: str
    errors: str | None = None
    good: str | None = None


@dataclass(frozen=True)
class LatencyIndicator:
    """Requests at or below ``threshold`` (a bucket boundary) of a histogram are good."""

    metric: str
    threshold: float
    selector: str = ""


class FreshnessSource(StrEnum):
    TIMESTAMP = "timestamp"  # Unix time of the newest data; stale when older than the threshold
    LAG = "lag"  # seconds behind; stale above the threshold
    BOOL_GAUGE = "boolGauge"  # 1 fresh (good), 0 stale (bad), as Pyrra's bool gauge


@dataclass(frozen=True)
class FreshnessIndicator:
    """A time-slice SLI: each rule evaluation is an event, bad when the data is stale."""

    source: FreshnessSource
    query: str  # an instant PromQL query, no window placeholder
    threshold_seconds: float | None = None  # for timestamp and lag


Indicator = RatioIndicator | LatencyIndicator | FreshnessIndicator


@dataclass(frozen=True)
class BurnRateWindow:
    """One alert row: both windows must burn faster than ``burn_rate`` for the alert to fire."""

    kind: AlertKind
    long_seconds: float
    short_seconds: float
    burn_rate: float


@dataclass(frozen=True)
class ForecastAlert:
    """A ticket when the budget would run out before the window ends at one window's burn rate."""

    enabled: bool = False
    window_seconds: float | None = None  # None: the longest long window of the alert table
    for_seconds: float = 30 * 60


@dataclass(frozen=True)
class Alerting:
    enabled: bool = True
    runbook_url: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    page_severity: str = "critical"
    ticket_severity: str = "warning"
    page_name: str = DEFAULT_ALERT_NAMES[AlertKind.PAGE]
    ticket_name: str = DEFAULT_ALERT_NAMES[AlertKind.TICKET]
    burn_rates: tuple[BurnRateWindow, ...] | None = None
    forecast: ForecastAlert = field(default_factory=ForecastAlert)


@dataclass(frozen=True)
class MaintenanceWindow:
    """While it lasts, the SLO's alerts are silenced; its errors still count."""

    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class PolicyThreshold:
    below_percent: float
    action: PolicyAction


@dataclass(frozen=True)
class Objective:
    """One ServiceLevelObjective, identified by namespace and name."""

    namespace: str
    name: str
    service: str
    target_percent: float
    window: Window
    indicator: Indicator
    alerting: Alerting = field(default_factory=Alerting)
    budget_policy: tuple[PolicyThreshold, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()

    @property
    def allowed_error_ratio(self) -> float:
        """The error budget as a ratio of events: 0.001 for a 99.9 % target."""
        return 1 - self.target_percent / 100
