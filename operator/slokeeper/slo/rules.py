"""Prometheus recording and alerting rules for one SLO, as plain data (a rule-file group).

The rule set is deliberately lean; every rule says why it exists:

* ``slokeeper_slo_error_ratio{window=W}``, one per alert window W (seven for the workbook table):
  the burn-rate alerts compare these, and the operator reads all SLOs' figures for every window
  with one query, because the metric name is shared and the SLO is a label.
* ``slokeeper_slo_error_ratio{window="1h"}`` and ``slokeeper_slo_requests_per_second{window="1h"}``:
  hourly figures the operator sums over the SLO's window (rolling or calendar) to get the SLI and
  the budget, weighted by traffic, without Prometheus re-reading weeks of raw samples each cycle.
  For a 30-day window the 1 h error ratio is also an alert window and is recorded once.
* Two alerts, page and ticket, each the ``or`` of its rows of the burn-rate table. Their value is
  the burn rate over the row's long window, so notifications can show it.
* With ``alerting.forecast`` on, ``slokeeper_slo_period_error_budget_remaining`` (and, for
  calendar windows, ``slokeeper_slo_period_time_left_ratio``) and a third alert, a ticket when
  the budget left would be spent before the window ends at the forecast window's burn rate:
  ``burn_rate * time_left >= remaining``, time left being the share of the period still ahead
  (always 1 for a rolling window, whose budget is sized for one window length).

A freshness SLI is a time slice: ``slokeeper_slo_freshness_stale`` records, at every evaluation,
whether the data is stale (1) or not (0) (for a bool gauge, the share of its series at 0). Each
window's error ratio is that series' average over the window, and its "requests" are evaluations
per second, so every hour weighs by how much of it was observed; no metric, no data.

The error ratio wraps the user's queries in ``sum()`` (one series per SLO, whatever they return)
and treats an absent error series as zero errors: a service with no 5xx yet is healthy, not
"no data". Only an absent total is no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slokeeper.slo.durations import format_duration
from slokeeper.slo.objective import (
    DEFAULT_ALERT_NAMES,
    AlertKind,
    BurnRateWindow,
    CalendarWindow,
    FreshnessIndicator,
    FreshnessSource,
    LatencyIndicator,
    Objective,
    RatioIndicator,
)
from slokeeper.slo.period_promql import period_elapsed_share, period_error_ratio
from slokeeper.slo.windows import HOUR, alert_windows, burn_rate_table

ERROR_RATIO = "slokeeper_slo_error_ratio"
REQUESTS_PER_SECOND = "slokeeper_slo_requests_per_second"
FRESHNESS_STALE = "slokeeper_slo_freshness_stale"
BUDGET_WINDOW_SECONDS = HOUR
WINDOW_PLACEHOLDER = "{{.window}}"
ALERT_NAMES = DEFAULT_ALERT_NAMES  # unless an SLO names its own (Alerting.page_name/ticket_name)
PERIOD_BUDGET_REMAINING = "slokeeper_slo_period_error_budget_remaining"
PERIOD_TIME_LEFT = "slokeeper_slo_period_time_left_ratio"
FORECAST_ALERT = "ErrorBudgetExhaustionForecast"
FORECAST_ALERT_KIND = "forecast"
# Labels slokeeper itself puts on its series and alerts (``namespace``, the SLO's own, on alerts
# only: Alertmanager routes usually key on it). A tenant's alert labels must not set them, or a
# tenant could page another team or pass its alert off as another namespace's.
OPERATOR_LABELS = (
    "namespace",
    "slo",
    "slo_namespace",
    "service",
    "window",
    "severity",
    "slokeeper_alert",
)
# Labels reserved on alerts: slokeeper's, and alertname, which Prometheus sets on every alert
# over any rule label of that name.
RESERVED_ALERT_LABELS = ("alertname", *OPERATOR_LABELS)

# The one template of slokeeper's own that reads a series: the forecast alert's budget left, of its
# own SLO only (by its slo and slo_namespace labels, which a tenant cannot set). Tenants' templates
# may read no series at all (``rule_check``).
BUDGET_LEFT_TEMPLATE = (
    f'{{{{ with printf "{PERIOD_BUDGET_REMAINING}{{slo=%q,slo_namespace=%q}}" '
    f"$labels.slo $labels.slo_namespace | query }}}}"
    f"{{{{ . | first | value | humanizePercentage }}}}{{{{ end }}}}"
)

Rule = dict[str, Any]


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]

    @property
    def recording_rules(self) -> int:
        return sum(1 for rule in self.rules if "record" in rule)

    @property
    def alerting_rules(self) -> int:
        return sum(1 for rule in self.rules if "alert" in rule)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rules": [dict(rule) for rule in self.rules]}


def slo_labels(objective: Objective) -> dict[str, str]:
    """The labels every series and alert of this SLO carries."""
    return {
        "slo": objective.name,
        "slo_namespace": objective.namespace,
        "service": objective.service,
    }


def alert_labels(objective: Objective) -> dict[str, str]:
    """The labels slokeeper sets on every alert of this SLO, over any of the tenant's: the SLO's
    own and ``namespace``, the SLO's namespace, which Alertmanager routes can trust."""
    return {**slo_labels(objective), "namespace": objective.namespace}


def series_selector(objective: Objective, window: float | None = None) -> str:
    """The selector of this SLO's recorded series (of one window, if given)."""
    labels = {"slo": objective.name, "slo_namespace": objective.namespace}
    if window is not None:
        labels["window"] = format_duration(window)
    return "{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def le_matcher(threshold: float) -> str:
    """A matcher for the bucket at ``threshold`` however the ``le`` label was formatted.

    Prometheus 2 keeps the exporter's text ("1", "0.3"); Prometheus 3 normalises integers to
    "1.0" on ingestion. Matching both keeps the same rule working on either.
    """
    text = repr(float(threshold))
    if text.endswith(".0"):
        whole = text[:-2]
        return f'le=~"{whole}|{whole}\\\\.0"'
    return f'le="{text}"'


def with_selector(metric: str, selector: str, *extra: str) -> str:
    """``metric{selector,extra…}`` with empty parts left out."""
    matchers = [part for part in (selector.strip(), *extra) if part]
    return f"{metric}{{{','.join(matchers)}}}"


def stale_query(indicator: FreshnessIndicator) -> str:
    """1 while the data is stale, 0 while fresh (a bool gauge: the share of its series at 0)."""
    threshold = _number(indicator.threshold_seconds or 0)
    if indicator.source is FreshnessSource.TIMESTAMP:
        return f"time() - max({indicator.query}) > bool {threshold}"
    if indicator.source is FreshnessSource.LAG:
        return f"max({indicator.query}) > bool {threshold}"
    return f"1 - avg({indicator.query})"


def total_query(objective: Objective, window: float) -> str:
    """Events per second over ``window``, as one series."""
    duration = format_duration(window)
    indicator = objective.indicator
    if isinstance(indicator, FreshnessIndicator):
        stale = f"{FRESHNESS_STALE}{series_selector(objective)}"
        return f"count_over_time({stale}[{duration}]) / {_number(window)}"
    if isinstance(indicator, RatioIndicator):
        return f"sum({indicator.total.replace(WINDOW_PLACEHOLDER, duration)})"
    if isinstance(indicator, LatencyIndicator):
        count = with_selector(f"{indicator.metric}_count", indicator.selector)
        return f"sum(rate({count}[{duration}]))"
    raise TypeError(f"unknown indicator {indicator!r}")


def error_ratio_query(objective: Objective, window: float) -> str:
    """The share of bad events over ``window``, as one series."""
    duration = format_duration(window)
    indicator = objective.indicator
    if isinstance(indicator, FreshnessIndicator):
        return f"avg_over_time({FRESHNESS_STALE}{series_selector(objective)}[{duration}])"
    total = total_query(objective, window)
    if isinstance(indicator, RatioIndicator):
        if indicator.errors is not None:
            errors = indicator.errors.replace(WINDOW_PLACEHOLDER, duration)
            return f"(sum({errors}) or vector(0))\n/\n{total}"
        if indicator.good is None:
            raise ValueError("a ratio indicator needs errors or good")
        good = indicator.good.replace(WINDOW_PLACEHOLDER, duration)
        return f"1 - (sum({good}) or vector(0))\n/\n{total}"
    if isinstance(indicator, LatencyIndicator):
        bucket = with_selector(
            f"{indicator.metric}_bucket", indicator.selector, le_matcher(indicator.threshold)
        )
        return f"1 - sum(rate({bucket}[{duration}]))\n/\n{total}"
    raise TypeError(f"unknown indicator {indicator!r}")


def forecast_window(objective: Objective) -> float | None:
    """The window whose burn rate the forecast alert extrapolates; None without that alert."""
    alerting = objective.alerting
    if not (alerting.enabled and alerting.forecast.enabled):
        return None
    if alerting.forecast.window_seconds is not None:
        return alerting.forecast.window_seconds
    return max(row.long_seconds for row in burn_rate_table(objective))


def written_queries(objective: Objective, window: float) -> tuple[str, ...]:
    """The queries built from what the SRE wrote, to try before any rule is written."""
    if isinstance(objective.indicator, FreshnessIndicator):
        return (stale_query(objective.indicator),)
    return (error_ratio_query(objective, window), total_query(objective, window))


def recorded_windows(objective: Objective) -> tuple[float, ...]:
    """Windows with an error-ratio rule: the alert windows (if alerting) and the hourly base."""
    windows = set(alert_windows(objective)) if objective.alerting.enabled else set()
    forecast = forecast_window(objective)
    if forecast is not None:
        windows.add(forecast)
    return tuple(sorted(windows | {BUDGET_WINDOW_SECONDS}))


def recording_rules(objective: Objective) -> list[Rule]:
    labels = slo_labels(objective)
    rules: list[Rule] = []
    if isinstance(objective.indicator, FreshnessIndicator):
        # First in the group, so every window's ratio reads this evaluation's sample.
        rules.append(
            {"record": FRESHNESS_STALE, "expr": stale_query(objective.indicator), "labels": labels}
        )
    rules += [
        {
            "record": ERROR_RATIO,
            "expr": error_ratio_query(objective, window),
            "labels": {**labels, "window": format_duration(window)},
        }
        for window in recorded_windows(objective)
    ]
    rules.append(
        {
            "record": REQUESTS_PER_SECOND,
            "expr": total_query(objective, BUDGET_WINDOW_SECONDS),
            "labels": {**labels, "window": format_duration(BUDGET_WINDOW_SECONDS)},
        }
    )
    if forecast_window(objective) is not None:
        rules.extend(_period_rules(objective))
    return rules


def _period_rules(objective: Objective) -> list[Rule]:
    """The budget left over the whole window (calendar: the period so far) and the time left."""
    labels = slo_labels(objective)
    hourly = series_selector(objective, BUDGET_WINDOW_SECONDS)
    errors = f"{ERROR_RATIO}{hourly} * {REQUESTS_PER_SECOND}{hourly}"
    ratio = period_error_ratio(objective.window, errors, f"{REQUESTS_PER_SECOND}{hourly}")
    allowed = _number(objective.allowed_error_ratio)
    window = objective.window
    if not isinstance(window, CalendarWindow):
        remaining = f"1 - max without (window) (\n{ratio}\n) / {allowed}"
        return [{"record": PERIOD_BUDGET_REMAINING, "expr": remaining, "labels": labels}]
    share = period_elapsed_share(window)
    remaining = f"1 - max without (window) (\n{ratio}\n) / {allowed} * scalar({share})"
    return [
        {"record": PERIOD_BUDGET_REMAINING, "expr": remaining, "labels": labels},
        {"record": PERIOD_TIME_LEFT, "expr": f"1 - {share}", "labels": labels},
    ]


def _burn_condition(objective: Objective, row: BurnRateWindow) -> str:
    """Both windows of a row above its burn rate; the value is the long window's burn rate.

    The two sides differ only in their ``window`` label, so ``and`` ignores it, and the result
    drops it: one alert per SLO and kind, whichever row fires.
    """
    allowed = _number(objective.allowed_error_ratio)
    threshold = _number(row.burn_rate)
    long, short = (
        f"{ERROR_RATIO}{series_selector(objective, window)} / {allowed} > {threshold}"
        for window in (row.long_seconds, row.short_seconds)
    )
    return f"max without (window) (\n  {long}\n  and ignoring (window)\n  {short}\n)"


def _number(value: float) -> str:
    return format(value, ".12g")


def alerting_rules(objective: Objective) -> list[Rule]:
    if not objective.alerting.enabled:
        return []
    alerting = objective.alerting
    severity = {AlertKind.PAGE: alerting.page_severity, AlertKind.TICKET: alerting.ticket_severity}
    names = {AlertKind.PAGE: alerting.page_name, AlertKind.TICKET: alerting.ticket_name}
    table = burn_rate_table(objective)
    rules: list[Rule] = []
    for kind in (AlertKind.PAGE, AlertKind.TICKET):
        rows = [row for row in table if row.kind is kind]
        if not rows:
            continue
        windows = ", ".join(
            f"{_number(row.burn_rate)}x over {format_duration(row.long_seconds)}"
            f"/{format_duration(row.short_seconds)}"
            for row in rows
        )
        annotations = {
            "summary": (
                f"{objective.service}: SLO {objective.namespace}/{objective.name} is burning its "
                f"error budget too fast"
            ),
            "description": (
                f'Burn rate {{{{ $value | printf "%.1f" }}}}x over the long window '
                f"(thresholds: {windows}) against a {_number(objective.target_percent)} % target."
            ),
            **dict(alerting.annotations),
        }
        if alerting.runbook_url:
            annotations["runbook_url"] = alerting.runbook_url
        rules.append(
            {
                "alert": names[kind],
                "expr": "\nor\n".join(_burn_condition(objective, row) for row in rows),
                "labels": {
                    **dict(alerting.labels),
                    **alert_labels(objective),
                    "severity": severity[kind],
                    "slokeeper_alert": kind.value,
                },
                "annotations": annotations,
            }
        )
    window = forecast_window(objective)
    if window is not None:
        rules.append(_forecast_alert(objective, window))
    return rules


def _forecast_alert(objective: Objective, window: float) -> Rule:
    selector = series_selector(objective)
    allowed = _number(objective.allowed_error_ratio)
    burn = f"{ERROR_RATIO}{series_selector(objective, window)} / {allowed}"
    remaining = f"{PERIOD_BUDGET_REMAINING}{selector}"
    calendar = isinstance(objective.window, CalendarWindow)
    if calendar:
        remaining = f"({remaining} / {PERIOD_TIME_LEFT}{selector})"
    alerting = objective.alerting
    ends = "the calendar period ends" if calendar else "a window length from now"
    annotations = {
        "summary": (
            f"{objective.service}: SLO {objective.namespace}/{objective.name} will run out of "
            f"error budget before {ends}"
        ),
        "description": (
            f'At the burn rate of the last {format_duration(window)} ({{{{ $value | printf "%.2f" '
            f"}}}}x) the {BUDGET_LEFT_TEMPLATE} of error budget left is spent before {ends}."
        ),
        **dict(alerting.annotations),
    }
    if alerting.runbook_url:
        annotations["runbook_url"] = alerting.runbook_url
    return {
        "alert": FORECAST_ALERT,
        "expr": f"max without (window) (\n  {burn}\n  >= ignoring (window)\n  {remaining}\n)",
        "for": format_duration(alerting.forecast.for_seconds)
        if alerting.forecast.for_seconds
        else "0s",
        "labels": {
            **dict(alerting.labels),
            **alert_labels(objective),
            "severity": alerting.ticket_severity,
            "slokeeper_alert": FORECAST_ALERT_KIND,
        },
        "annotations": annotations,
    }


def rule_counts(objective: Objective) -> tuple[int, int]:
    """(recording, alerting) rules of this SLO, without rendering them."""
    kinds = (
        {row.kind for row in burn_rate_table(objective)} if objective.alerting.enabled else set()
    )
    recording, alerting = len(recorded_windows(objective)) + 1, len(kinds)
    if isinstance(objective.indicator, FreshnessIndicator):
        recording += 1
    if forecast_window(objective) is not None:
        recording += 2 if isinstance(objective.window, CalendarWindow) else 1
        alerting += 1
    return recording, alerting


def group_name(objective: Objective) -> str:

    return f"slokeeper-{objective.namespace}-{objective.name}"


def rule_group(objective: Objective) -> RuleGroup:
    """Every rule of one SLO, in one group evaluated at Prometheus' global interval."""
    return RuleGroup(
        group_name(objective), tuple(recording_rules(objective) + alerting_rules(objective))
    )
