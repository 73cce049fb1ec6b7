"""PromQL for a whole compliance window, or the calendar period so far, from hourly records.

The budget-exhaustion forecast alert needs what the operator computes in Python: the error ratio
over the SLO's window and, for calendar windows, how much of the period has passed. Both are
built here from the recorded hourly error ratio and request rate, weighted by traffic like the
operator's own figures.

A calendar period has no fixed length, and a subquery's range must be a literal, so the current
period is cut out of a range long enough for any period (31 d or 7 d). Inside a subquery each step
sees only its own time, never the evaluation time, so a step cannot ask "am I in the current
period?". Instead every step is weighted by its period number ``p`` and by ``p²``: a 31-day range
reaches back at most two periods (February is 28 days), so with ``S_k = Σ value·p^k`` over the
range and ``P`` the current period, the Lagrange polynomial that is 1 at ``P`` and 0 at ``P-1``
and ``P-2`` gives the current period's sum exactly: ``½(S2 - (2P-3)·S1 + (P-1)(P-2)·S0)``.
Period numbers are counted from 2000 (months) or 1970 (weeks) so ``p²`` stays small and the
subtraction loses no precision that matters.

Time zones: PromQL's calendar functions work in UTC, so periods start at the zone's standard
offset (the smaller of its January and July offsets). While daylight saving time is on, the period
boundary is an hour off; the operator's status, which uses the real zone, is not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slokeeper.slo.durations import format_duration
from slokeeper.slo.objective import CalendarPeriod, CalendarWindow, RollingWindow, Window
from slokeeper.slo.windows import DAY, HOUR

WEEK = 7 * DAY
# 1970-01-01 was a Thursday; ISO weeks start on Monday, four days later.
_FIRST_MONDAY = 4 * DAY
_RANGE = {CalendarPeriod.MONTH: "31d", CalendarPeriod.WEEK: "7d"}


def standard_offset_seconds(time_zone: str) -> int:
    zone = ZoneInfo(time_zone)
    offsets = [
        datetime(2025, month, 1, tzinfo=UTC).astimezone(zone).utcoffset() for month in (1, 7)
    ]
    return int(min(offset.total_seconds() for offset in offsets if offset is not None))


def rolling_step_seconds(window_seconds: float) -> float:
    """One hour, or a 24th of windows shorter than a day so even those get a few points."""
    return max(1.0, min(HOUR, round(window_seconds / 24)))


class _Clock:
    """Local wall-clock expressions for one zone's standard offset, ``earlier`` seconds ago."""

    def __init__(self, time_zone: str, earlier: float = 0) -> None:
        shift = standard_offset_seconds(time_zone) - int(earlier)
        self.now = f"(time() {'+' if shift > 0 else '-'} {abs(shift)})" if shift else "time()"
        self.local = f"vector({self.now})"

    def seconds_into_day(self) -> str:
        return f"{self.now} % 86400"

    def period_number(self, period: CalendarPeriod) -> str:
        if period is CalendarPeriod.MONTH:
            return f"((year({self.local}) - 2000) * 12 + month({self.local}))"
        return f"floor(vector(({self.now} - {_FIRST_MONDAY:.0f}) / {WEEK:.0f}))"

    def elapsed_share(self, period: CalendarPeriod) -> str:
        """The part of the current period that has passed, 0..1, as a label-less vector."""
        if period is CalendarPeriod.MONTH:
            elapsed = f"(day_of_month({self.local}) - 1) * 86400 + {self.seconds_into_day()}"
            return f"({elapsed}) / (days_in_month({self.local}) * 86400)"
        elapsed = f"((day_of_week({self.local}) + 6) % 7) * 86400 + {self.seconds_into_day()}"
        return f"({elapsed}) / {WEEK:.0f}"


def _current_period_sum(series: str, time_zone: str, period: CalendarPeriod) -> str:
    number = f"scalar({_Clock(time_zone).period_number(period)})"
    # A step's hourly value covers the hour before it, so it belongs to that hour's period.
    step_number = f"scalar({_Clock(time_zone, earlier=HOUR).period_number(period)})"
    subquery = f"[{_RANGE[period]}:{format_duration(HOUR)}]"
    s0 = f"sum_over_time(({series}){subquery})"
    s1 = f"sum_over_time(({series} * {step_number}){subquery})"
    s2 = f"sum_over_time(({series} * {step_number} ^ 2){subquery})"
    # Parenthesised whole: it is divided by another such sum, and PromQL's * and / associate left.
    return f"(0.5 * ({s2} - (2 * {number} - 3) * {s1} + ({number} - 1) * ({number} - 2) * {s0}))"


def period_error_ratio(window: Window, errors: str, requests: str) -> str:
    """Bad events over all events in the rolling window, or in the calendar period so far.

    ``errors`` and ``requests`` are the hourly bad-event and event rates, one series each, with
    the same labels.
    """
    if isinstance(window, RollingWindow):
        step = format_duration(rolling_step_seconds(window.seconds))
        span = f"[{format_duration(window.seconds)}:{step}]"
        return f"sum_over_time(({errors}){span})\n/\nsum_over_time(({requests}){span})"
    if isinstance(window, CalendarWindow):
        return (
            f"{_current_period_sum(errors, window.time_zone, window.period)}\n/\n"
            f"{_current_period_sum(requests, window.time_zone, window.period)}"
        )
    raise TypeError(f"unknown window {window!r}")


def period_elapsed_share(window: CalendarWindow) -> str:
    return _Clock(window.time_zone).elapsed_share(window.period)
