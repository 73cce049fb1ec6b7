"""Burn-rate tables: the workbook's for 30 days, scaled so each row keeps its share of budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.durations import format_duration
from slokeeper.slo.objective import Alerting as AlertingSettings
from slokeeper.slo.objective import (
    AlertKind,
    BurnRateWindow,
    CalendarPeriod,
    CalendarWindow,
    Objective,
    RatioIndicator,
    RollingWindow,
)
from slokeeper.slo.windows import (
    DAY,
    WORKBOOK_30D,
    alert_windows,
    budget_share,
    burn_rate_table,
    scaled_table,
)

RATIO = RatioIndicator(total="sum(rate(t[{{.window}}]))", errors="sum(rate(e[{{.window}}]))")


def _objective(
    window: RollingWindow | CalendarWindow, alerting: AlertingSettings | None = None
) -> Objective:
    return Objective(
        "shop", "checkout", "checkout", 99.9, window, RATIO, alerting or AlertingSettings()
    )


def test_a_30_day_window_uses_the_workbook_table_as_written() -> None:
    rows = burn_rate_table(_objective(RollingWindow(30 * DAY)))
    assert [
        (r.kind, format_duration(r.long_seconds), format_duration(r.short_seconds), r.burn_rate)
        for r in rows
    ] == [
        (AlertKind.PAGE, "1h", "5m", 14.4),
        (AlertKind.PAGE, "6h", "30m", 6),
        (AlertKind.TICKET, "1d", "2h", 3),
        (AlertKind.TICKET, "3d", "6h", 1),
    ]
    # The workbook's shares of budget: 2 %, 5 %, 10 %, 10 %.
    assert [round(budget_share(r, 30 * DAY), 3) for r in rows] == [0.02, 0.05, 0.1, 0.1]


def test_a_28_day_window_shortens_the_windows_and_keeps_the_burn_rates() -> None:
    rows = burn_rate_table(_objective(RollingWindow(28 * DAY)))
    assert [format_duration(r.long_seconds) for r in rows] == ["56m", "5h36m", "22h24m", "2d19h12m"]
    assert [format_duration(r.short_seconds) for r in rows] == ["4m40s", "28m", "1h52m", "5h36m"]
    assert [r.burn_rate for r in rows] == [14.4, 6, 3, 1]


@given(st.integers(min_value=1, max_value=400))
def test_every_scaled_row_spends_the_same_share_of_budget(days: int) -> None:
    window = days * DAY
    for scaled, original in zip(scaled_table(window), WORKBOOK_30D, strict=True):
        assert budget_share(scaled, window) == pytest.approx(
            budget_share(original, 30 * DAY), rel=1e-3, abs=1e-4
        )
        assert scaled.short_seconds < scaled.long_seconds


def test_calendar_windows_scale_to_30_days_for_months_and_7_for_weeks() -> None:
    month = burn_rate_table(_objective(CalendarWindow(CalendarPeriod.MONTH)))
    week = burn_rate_table(_objective(CalendarWindow(CalendarPeriod.WEEK)))
    assert month == WORKBOOK_30D
    assert format_duration(week[0].long_seconds) == "14m"


def test_a_custom_table_replaces_the_workbook() -> None:
    custom = (BurnRateWindow(AlertKind.PAGE, long_seconds=1800, short_seconds=180, burn_rate=20),)
    objective = _objective(RollingWindow(30 * DAY), AlertingSettings(burn_rates=custom))
    assert burn_rate_table(objective) == custom
    assert alert_windows(objective) == (180, 1800)


def test_alert_windows_are_recorded_once_each_shortest_first() -> None:
    windows = alert_windows(_objective(RollingWindow(30 * DAY)))
    assert [format_duration(w) for w in windows] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
