"""Calendar periods in PromQL start at the zone's standard offset; short windows get more steps."""

from __future__ import annotations

import pytest

from slokeeper.slo.objective import CalendarPeriod, CalendarWindow, RollingWindow
from slokeeper.slo.period_promql import (
    period_elapsed_share,
    period_error_ratio,
    rolling_step_seconds,
    standard_offset_seconds,
)
from slokeeper.slo.windows import DAY, HOUR


@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        ("UTC", 0),
        ("Europe/Berlin", 3600),  # CET, not CEST
        ("America/New_York", -5 * 3600),  # EST, not EDT
        ("Australia/Sydney", 10 * 3600),  # AEST: its daylight time is in January
        ("Asia/Kolkata", 19800),  # no daylight time, half-hour offset
    ],
)
def test_periods_start_at_the_standard_offset(zone: str, offset: int) -> None:
    assert standard_offset_seconds(zone) == offset


def test_short_rolling_windows_are_stepped_finer_than_an_hour() -> None:
    assert rolling_step_seconds(28 * DAY) == HOUR
    assert rolling_step_seconds(DAY) == HOUR
    assert rolling_step_seconds(2 * HOUR) == 300


def test_a_zone_shifts_every_clock_reading() -> None:
    share = period_elapsed_share(CalendarWindow(CalendarPeriod.MONTH, "Asia/Kolkata"))
    assert "time() + 19800" in share
    assert "time() - " not in share
    ratio = period_error_ratio(CalendarWindow(CalendarPeriod.MONTH, "Asia/Kolkata"), "e", "r")
    # Steps are numbered by the hour their value covers: an hour before the step.
    assert "time() + 16200" in ratio


def test_a_rolling_window_is_one_subquery_per_side() -> None:
    assert period_error_ratio(RollingWindow(7 * DAY), "e", "r") == (
        "sum_over_time((e)[7d:1h])\n/\nsum_over_time((r)[7d:1h])"
    )
