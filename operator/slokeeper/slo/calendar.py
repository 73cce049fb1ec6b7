"""Calendar compliance periods: the current month or ISO week in the SLO's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slokeeper.slo.objective import CalendarPeriod, CalendarWindow, RollingWindow, Window

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Span:
    """The stretch of time the SLI is measured over, and how much of the period it covers."""

    start: datetime
    end: datetime
    now: datetime

    @property
    def elapsed_seconds(self) -> float:
        return (self.now - self.start).total_seconds()

    @property
    def length_seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def elapsed_share(self) -> float:
        """Share of the period elapsed; a span of no length is wholly elapsed."""
        if self.length_seconds <= 0:
            return 1.0
        return min(1.0, max(0.0, self.elapsed_seconds / self.length_seconds))


def calendar_period(now: datetime, period: CalendarPeriod, time_zone: str = "UTC") -> Span:
    """The month (from the 1st) or week (from Monday) containing ``now``, midnight local time."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(ZoneInfo(time_zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is CalendarPeriod.MONTH:
        start = midnight.replace(day=1)
        next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        end = next_month
    else:
        start = midnight - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    # zoneinfo datetimes do wall-clock arithmetic and resolve the offset of each wall time, so
    # a period that spans a daylight-saving change is an hour shorter or longer, as it really is.
    return Span(start.astimezone(UTC), end.astimezone(UTC), now.astimezone(UTC))


def measurement_span(window: Window, now: datetime) -> Span:
    """What the SLI covers now: the last ``seconds`` of a rolling window, or the calendar period."""
    if isinstance(window, RollingWindow):
        # Prometheus holds nothing before 1970: a longer window (or NaN) is cut there, rather
        # than overflowing the calendar.
        seconds = window.seconds if window.seconds > 0 else 0.0
        start = now - timedelta(seconds=min(seconds, (now - EPOCH).total_seconds()))
        return Span(start.astimezone(UTC), now.astimezone(UTC), now.astimezone(UTC))
    if isinstance(window, CalendarWindow):
        return calendar_period(now, window.period, window.time_zone)
    raise TypeError(f"unknown window {window!r}")
