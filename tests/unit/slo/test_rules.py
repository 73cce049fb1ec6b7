"""The rules written for an SLO: exact PromQL beside each kind of input, and a lean rule count."""

from __future__ import annotations

import pytest

from slokeeper.slo.objective import (
    Alerting,
    AlertKind,
    BurnRateWindow,
    CalendarPeriod,
    CalendarWindow,
    ForecastAlert,
    FreshnessIndicator,
    FreshnessSource,
    LatencyIndicator,
    Objective,
    RatioIndicator,
    RollingWindow,
)
from slokeeper.slo.rules import (
    ERROR_RATIO,
    FORECAST_ALERT,
    FRESHNESS_STALE,
    OPERATOR_LABELS,
    PERIOD_BUDGET_REMAINING,
    PERIOD_TIME_LEFT,
    REQUESTS_PER_SECOND,
    error_ratio_query,
    le_matcher,
    rule_counts,
    rule_group,
    written_queries,
)
from slokeeper.slo.windows import DAY, HOUR

ERRORS = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))'
TOTAL = 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))'


def _objective(**changes: object) -> Objective:
    values: dict[str, object] = {
        "namespace": "shop",
        "name": "checkout-availability",
        "service": "checkout",
        "target_percent": 99.9,
        "window": RollingWindow(30 * DAY),
        "indicator": RatioIndicator(total=TOTAL, errors=ERRORS),
    }
    values.update(changes)
    return Objective(**values)  # type: ignore[arg-type]


def test_an_errors_ratio_counts_missing_error_series_as_zero_errors() -> None:
    assert error_ratio_query(_objective(), 300) == (
        '(sum(sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))) or vector(0))\n'
        "/\n"
        'sum(sum(rate(http_requests_total{job="checkout"}[5m])))'
    )


def test_a_good_events_ratio_is_turned_into_an_error_ratio() -> None:
    good = RatioIndicator(total=TOTAL, good=ERRORS.replace('=~"5.."', '!~"5.."'))
    assert error_ratio_query(_objective(indicator=good), HOUR).startswith(
        '1 - (sum(sum(rate(http_requests_total{job="checkout",code!~"5.."}[1h]))) or vector(0))'
    )


def test_a_latency_sli_reads_the_threshold_bucket_over_the_count() -> None:
    latency = LatencyIndicator("http_request_duration_seconds", 0.3, 'job="checkout"')
    assert error_ratio_query(_objective(indicator=latency), HOUR) == (
        '1 - sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[1h]))\n'
        "/\n"
        'sum(rate(http_request_duration_seconds_count{job="checkout"}[1h]))'
    )


def test_a_whole_number_bucket_matches_prometheus_2_and_3_spellings() -> None:
    assert le_matcher(1) == 'le=~"1|1\\\\.0"'
    assert le_matcher(2.5) == 'le="2.5"'


def test_a_30_day_slo_has_eight_recording_rules_and_two_alerts() -> None:
    group = rule_group(_objective())
    windows = [
        rule["labels"]["window"] for rule in group.rules if rule.get("record") == ERROR_RATIO
    ]
    assert windows == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert [rule["record"] for rule in group.rules if "record" in rule][-1] == REQUESTS_PER_SECOND
    assert (group.recording_rules, group.alerting_rules) == (8, 2)
    assert group.name == "slokeeper-shop-checkout-availability"


def test_every_series_carries_the_slo_labels_for_batched_reads() -> None:
    for rule in rule_group(_objective()).rules:
        assert rule["labels"]["slo"] == "checkout-availability"
        assert rule["labels"]["slo_namespace"] == "shop"
        assert rule["labels"]["service"] == "checkout"


def test_the_page_alert_joins_its_rows_and_carries_what_on_call_needs() -> None:
    objective = _objective(
        alerting=Alerting(
            runbook_url="https://runbooks.example.com/checkout", labels=(("team", "payments"),)
        )
    )
    page = next(
        rule for rule in rule_group(objective).rules if rule.get("alert") == "ErrorBudgetBurnPage"
    )
    assert page["expr"].count("\nor\n") == 1
    assert 'window="1h"} / 0.001 > 14.4' in page["expr"]
    assert 'window="5m"} / 0.001 > 14.4' in page["expr"]
    assert "and ignoring (window)" in page["expr"]
    assert page["labels"] == {
        "team": "payments",
        "namespace": "shop",
        "slo": "checkout-availability",
        "slo_namespace": "shop",
        "service": "checkout",
        "severity": "critical",
        "slokeeper_alert": "page",
    }
    assert page["annotations"]["runbook_url"] == "https://runbooks.example.com/checkout"
    assert "14.4x over 1h/5m, 6x over 6h/30m" in page["annotations"]["description"]
    assert "{{ $value" in page["annotations"]["description"]


def test_every_alert_carries_the_slos_namespace_over_any_label_of_the_tenant() -> None:
    """Routes key on namespace: a tenant's label of that name (or any slokeeper sets), were the
    API server's refusal ever bypassed, is overwritten on every alert, the forecast's included."""
    forged = (*((name, "payments") for name in OPERATOR_LABELS), ("team", "payments"))
    objective = _objective(alerting=Alerting(labels=forged, forecast=ForecastAlert(enabled=True)))
    alerts = [rule for rule in rule_group(objective).rules if "alert" in rule]
    assert len(alerts) == 3
    for alert in alerts:
        assert alert["labels"]["namespace"] == alert["labels"]["slo_namespace"] == "shop"
        assert alert["labels"]["slo"] == "checkout-availability"
        assert alert["labels"]["service"] == "checkout"
        assert alert["labels"]["severity"] in {"critical", "warning"}
        assert alert["labels"]["team"] == "payments"
    recorded = [rule for rule in rule_group(objective).rules if "record" in rule]
    assert all("namespace" not in rule["labels"] for rule in recorded)


def test_without_alerting_only_the_budget_rules_remain() -> None:
    group = rule_group(_objective(alerting=Alerting(enabled=False)))
    assert (group.recording_rules, group.alerting_rules) == (2, 0)


def test_a_custom_table_with_only_a_page_row_writes_only_a_page_alert() -> None:
    row = BurnRateWindow(AlertKind.PAGE, long_seconds=1800, short_seconds=120, burn_rate=20)
    group = rule_group(_objective(alerting=Alerting(burn_rates=(row,))))
    alerts = [rule["alert"] for rule in group.rules if "alert" in rule]
    assert alerts == ["ErrorBudgetBurnPage"]
    windows = [
        rule["labels"]["window"] for rule in group.rules if rule.get("record") == ERROR_RATIO
    ]
    assert windows == ["2m", "30m", "1h"]


def test_rule_counts_match_the_rendered_group_without_rendering_it() -> None:
    for objective in (_objective(), _objective(alerting=Alerting(enabled=False))):
        group = rule_group(objective)
        assert rule_counts(objective) == (group.recording_rules, group.alerting_rules)


def test_no_forecast_rules_unless_asked() -> None:
    group = rule_group(_objective())
    assert FORECAST_ALERT not in {rule.get("alert") for rule in group.rules}
    assert PERIOD_BUDGET_REMAINING not in {rule.get("record") for rule in group.rules}


def test_the_forecast_extrapolates_the_longest_alert_window_by_default() -> None:
    objective = _objective(alerting=Alerting(forecast=ForecastAlert(enabled=True)))
    group = rule_group(objective)
    alert = next(rule for rule in group.rules if rule.get("alert") == FORECAST_ALERT)
    assert 'window="3d"} / 0.001\n  >= ignoring (window)\n  ' in alert["expr"]
    assert alert["for"] == "30m"
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["slokeeper_alert"] == "forecast"
    assert (group.recording_rules, group.alerting_rules) == rule_counts(objective)


def test_a_forecast_window_outside_the_table_is_recorded_too() -> None:
    objective = _objective(
        alerting=Alerting(forecast=ForecastAlert(enabled=True, window_seconds=12 * HOUR))
    )
    windows = {rule["labels"].get("window") for rule in rule_group(objective).rules}
    assert "12h" in windows


def test_a_rolling_window_budget_reads_the_whole_window() -> None:
    objective = _objective(alerting=Alerting(forecast=ForecastAlert(enabled=True)))
    remaining = next(
        rule
        for rule in rule_group(objective).rules
        if rule.get("record") == PERIOD_BUDGET_REMAINING
    )
    assert "[30d:1h]" in remaining["expr"]
    assert PERIOD_TIME_LEFT not in {rule.get("record") for rule in rule_group(objective).rules}


def test_calendar_windows_also_record_the_time_left() -> None:
    objective = _objective(
        window=CalendarWindow(CalendarPeriod.WEEK),
        alerting=Alerting(forecast=ForecastAlert(enabled=True, for_seconds=0)),
    )
    group = rule_group(objective)
    assert PERIOD_TIME_LEFT in {rule.get("record") for rule in group.rules}
    alert = next(rule for rule in group.rules if rule.get("alert") == FORECAST_ALERT)
    assert f"/ {PERIOD_TIME_LEFT}" in alert["expr"]
    assert alert["for"] == "0s"
    assert (group.recording_rules, group.alerting_rules) == rule_counts(objective)


def test_disabled_alerting_writes_no_forecast_either() -> None:
    objective = _objective(alerting=Alerting(enabled=False, forecast=ForecastAlert(enabled=True)))
    assert rule_counts(objective) == (2, 0)


@pytest.mark.parametrize(
    ("indicator", "stale"),
    [
        (
            FreshnessIndicator(FreshnessSource.TIMESTAMP, 'etl_ts{job="etl"}', 900),
            'time() - max(etl_ts{job="etl"}) > bool 900',
        ),
        (FreshnessIndicator(FreshnessSource.LAG, "etl_lag", 60), "max(etl_lag) > bool 60"),
        (FreshnessIndicator(FreshnessSource.BOOL_GAUGE, "etl_fresh"), "1 - avg(etl_fresh)"),
    ],
)
def test_a_freshness_sli_records_staleness_first_and_averages_it(
    indicator: FreshnessIndicator, stale: str
) -> None:
    objective = _objective(indicator=indicator)
    group = rule_group(objective)
    first = group.rules[0]
    assert first["record"] == FRESHNESS_STALE
    assert first["expr"] == stale
    assert written_queries(objective, 300) == (stale,)
    selector = '{slo="checkout-availability",slo_namespace="shop"}'
    assert error_ratio_query(objective, HOUR) == f"avg_over_time({FRESHNESS_STALE}{selector}[1h])"
    assert (group.recording_rules, group.alerting_rules) == rule_counts(objective)


def test_an_slo_names_its_page_and_ticket_alerts_as_alertmanager_routes_them() -> None:
    """Sloth and Pyrra users route on their alert names; Sloth's way gives both kinds one name."""
    named = Alerting(page_name="CheckoutHighErrorRate", ticket_name="CheckoutHighErrorRate")
    alerts = [rule for rule in rule_group(_objective(alerting=named)).rules if "alert" in rule]
    assert [(a["alert"], a["labels"]["severity"]) for a in alerts] == [
        ("CheckoutHighErrorRate", "critical"),
        ("CheckoutHighErrorRate", "warning"),
    ]
    defaults = [rule["alert"] for rule in rule_group(_objective()).rules if "alert" in rule]
    assert defaults == ["ErrorBudgetBurnPage", "ErrorBudgetBurnTicket"]
