"""The change calendar: may a change start now, and if not, when may it?

Recurring change windows (days of the week and a local time span, possibly past midnight) say when
changes may start; freeze periods (absolute, e.g. a year-end freeze) say when they may not, and win
over windows. No windows means any time outside a freeze. All local times are in the calendar's
IANA time zone, daylight-saving changes included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# How far ahead to look for the next opening: past the longest freeze anyone would declare.
HORIZON_DAYS = 400
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ChangeWindow:
    """Open on ``days`` (0 = Monday) from ``start`` to ``end`` (an earlier end: the next day)."""

    days: frozenset[int]
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        clock, weekday = local.time(), local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= clock < self.end
        yesterday = (weekday - 1) % 7
        return (weekday in self.days and clock >= self.start) or (
            yesterday in self.days and clock < self.end
        )

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Freeze:
    start: datetime
    end: datetime
    reason: str = ""

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


class CalendarReason(StrEnum):
    OPEN = "InsideChangeWindow"
    NO_WINDOWS = "NoChangeWindows"
    OUTSIDE_WINDOWS = "OutsideChangeWindows"
    FROZEN = "ChangeFreeze"


@dataclass(frozen=True)
class CalendarVerdict:
    open: bool
    reason: CalendarReason
    message: str
    next_open: datetime | None = None


@dataclass(frozen=True)
class ChangeCalendar:
    windows: tuple[ChangeWindow, ...] = ()
    freezes: tuple[Freeze, ...] = ()
    time_zone: str = "UTC"

    def _open_at(self, instant: datetime) -> bool:
        if any(freeze.contains(instant) for freeze in self.freezes):
            return False
        if not self.windows:
            return True
        local = instant.astimezone(ZoneInfo(self.time_zone))
        return any(window.contains(local) for window in self.windows)

    def _candidates(self, now: datetime) -> list[datetime]:
        """Instants at which the calendar can turn open: window starts and freeze ends."""
        zone = ZoneInfo(self.time_zone)
        today: date = now.astimezone(zone).date()
        found = [freeze.end for freeze in self.freezes if freeze.end > now]
        for offset in range(HORIZON_DAYS):
            day = today + timedelta(days=offset)
            for window in self.windows:
                if day.weekday() not in window.days:
                    continue
                # Both readings of the local start: on a daylight-saving day it may fall in the
                # gap (no such local time) or the overlap (twice); whichever is open counts.
                for fold in (0, 1):
                    start = window.start.replace(fold=fold)
                    opening = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
                    if opening > now:
                        found.append(opening)
        return sorted(found)

    def verdict(self, now: datetime) -> CalendarVerdict:
        """Whether a change may start at ``now`` (timezone-aware) and, if not, when it may."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        freeze = next((f for f in self.freezes if f.contains(now)), None)
        if self._open_at(now):
            if not self.windows:
                return CalendarVerdict(True, CalendarReason.NO_WINDOWS, "No change windows set.")
            return CalendarVerdict(True, CalendarReason.OPEN, "Inside a change window.")
        next_open = next((c for c in self._candidates(now) if self._open_at(c)), None)
        zone = ZoneInfo(self.time_zone)
        when = (
            f"the next opening is {next_open.astimezone(zone):%a %Y-%m-%d %H:%M} {self.time_zone}"
            if next_open
            else f"no opening within {HORIZON_DAYS} days"
        )

        if freeze is not None:
            reason = f" ({freeze.reason})" if freeze.reason else ""
            return CalendarVerdict(
                False,
                CalendarReason.FROZEN,
                f"Change freeze until {freeze.end:%Y-%m-%d %H:%M} UTC{reason}; {when}.",
                next_open,
            )
        windows = "; ".join(window.describe() for window in self.windows)
        return CalendarVerdict(
            False,
            CalendarReason.OUTSIDE_WINDOWS,
            f"Outside the change windows ({windows} {self.time_zone}); {when}.",
            next_open,
        )
