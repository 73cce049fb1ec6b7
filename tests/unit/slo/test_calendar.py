"""Calendar periods start at local midnight on the 1st or on Monday, in the SLO's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.calendar import calendar_period, measurement_span
from slokeeper.slo.objective import CalendarPeriod, CalendarWindow, RollingWindow

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
)


def test_a_berlin_month_starts_at_midnight_local_time() -> None:
    now = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    span = calendar_period(now, CalendarPeriod.MONTH, "Europe/Berlin")
    assert span.start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 1 Nov 00:00 CET
    assert span.end == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert round(span.elapsed_share, 3) == round((24 * 24 + 20) / (30 * 24), 3)


def test_a_month_with_a_daylight_saving_change_is_an_hour_longer() -> None:
    span = calendar_period(
        datetime(2026, 10, 15, tzinfo=UTC), CalendarPeriod.MONTH, "Europe/Berlin"
    )
    assert span.length_seconds == (31 * 24 + 1) * 3600


@given(instants, zones, st.sampled_from(list(CalendarPeriod)))
def test_the_period_contains_now_and_starts_on_its_first_day(
    now: datetime, zone: str, period: CalendarPeriod
) -> None:
    span = calendar_period(now, period, zone)
    assert span.start <= now < span.end
    local_start = span.start.astimezone(ZoneInfo(zone))
    assert (local_start.hour, local_start.minute) == (0, 0)
    if period is CalendarPeriod.MONTH:
        assert local_start.day == 1
        assert 27 * 86400 < span.length_seconds < 32 * 86400
    else:
        assert local_start.weekday() == 0
        assert abs(span.length_seconds - 7 * 86400) <= 3600
    assert 0 <= span.elapsed_share <= 1


def test_a_rolling_window_always_covers_its_full_length() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    span = measurement_span(RollingWindow(28 * 86400), now)
    assert span.start == now - timedelta(days=28)
    assert span.elapsed_share == 1
    assert measurement_span(CalendarWindow(CalendarPeriod.WEEK), now).start.weekday() == 0
