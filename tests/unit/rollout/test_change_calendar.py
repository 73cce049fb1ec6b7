"""When changes may start: windows, freezes, time zones, and the next opening."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from slokeeper.rollout.change_calendar import (
    CalendarReason,
    ChangeCalendar,
    ChangeWindow,
    Freeze,
)

TUE, THU = 1, 3
HIGH_RISK = ChangeCalendar(windows=(ChangeWindow(frozenset({TUE, THU}), time(2), time(4)),))


def test_high_risk_changes_only_tuesday_and_thursday_2_to_4_utc() -> None:
    tuesday_3am = datetime(2026, 11, 24, 3, tzinfo=UTC)
    assert HIGH_RISK.verdict(tuesday_3am).open
    wednesday = HIGH_RISK.verdict(datetime(2026, 11, 25, 19, 30, tzinfo=UTC))
    assert not wednesday.open
    assert wednesday.reason is CalendarReason.OUTSIDE_WINDOWS
    assert wednesday.next_open == datetime(2026, 11, 26, 2, tzinfo=UTC)
    assert "the next opening is Thu 2026-11-26 02:00 UTC" in wednesday.message


def test_a_window_past_midnight_in_berlin() -> None:
    nightly = ChangeCalendar(
        windows=(ChangeWindow(frozenset(range(7)), time(22), time(2)),), time_zone="Europe/Berlin"
    )
    assert nightly.verdict(datetime(2026, 11, 25, 22, 30, tzinfo=UTC)).open  # 23:30 local
    assert nightly.verdict(datetime(2026, 11, 26, 0, 30, tzinfo=UTC)).open  # 01:30 local
    closed = nightly.verdict(datetime(2026, 11, 26, 1, 30, tzinfo=UTC))  # 02:30 local
    assert not closed.open
    assert closed.next_open == datetime(2026, 11, 26, 21, 0, tzinfo=UTC)  # 22:00 local


def test_a_freeze_wins_over_a_window_and_says_until_when() -> None:
    year_end = Freeze(
        datetime(2026, 12, 21, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC), "Year-end freeze"
    )
    calendar = ChangeCalendar(windows=HIGH_RISK.windows, freezes=(year_end,))
    verdict = calendar.verdict(datetime(2026, 12, 22, 3, tzinfo=UTC))  # a Tuesday window
    assert not verdict.open
    assert verdict.reason is CalendarReason.FROZEN
    assert "Year-end freeze" in verdict.message
    assert verdict.next_open == datetime(2027, 1, 5, 2, tzinfo=UTC)  # the first Tuesday after


def test_without_windows_any_time_outside_a_freeze_is_open() -> None:
    freeze = Freeze(datetime(2026, 12, 24, tzinfo=UTC), datetime(2026, 12, 27, tzinfo=UTC))
    calendar = ChangeCalendar(freezes=(freeze,))
    assert calendar.verdict(datetime(2026, 12, 23, tzinfo=UTC)).reason is CalendarReason.NO_WINDOWS
    frozen = calendar.verdict(datetime(2026, 12, 25, tzinfo=UTC))
    assert frozen.next_open == freeze.end


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
windows = st.builds(
    ChangeWindow,
    st.frozensets(st.integers(0, 6), min_size=1),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)


@settings(max_examples=40, deadline=None)
@given(
    instants,
    st.lists(windows, min_size=1, max_size=3),
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
)
# Found by a full run: a Sunday window from 02:00 (the second reading of it) on the day Berlin
# skips 02:00-03:00 opened at 03:00 local, and the next opening said a week later.
@example(
    datetime(2026, 3, 23, tzinfo=UTC),
    [ChangeWindow(frozenset([6]), time(2, 0, fold=1), time(0, 0))],
    "Europe/Berlin",
)
def test_the_next_opening_is_open_and_nothing_opens_before_it(
    now: datetime, chosen: list[ChangeWindow], zone: str
) -> None:
    calendar = ChangeCalendar(windows=tuple(chosen), time_zone=zone)
    verdict = calendar.verdict(now)
    if verdict.open or verdict.next_open is None:
        return
    assert calendar.verdict(verdict.next_open).open
    probe = now
    while probe < verdict.next_open:
        assert not calendar.verdict(probe).open, f"open at {probe} before {verdict.next_open}"
        probe += timedelta(minutes=17)
