"""Multi-window, multi-burn-rate alert tables, scaled to the SLO's window.

Source: Google SRE Workbook, chapter 5 "Alerting on SLOs", table 5-8 ("Recommended parameters
for a 99.9 % SLO alerting configuration"), written for a 30-day window. Each row pages or tickets
when a share of the whole budget is spent within its long window:

    page    2 % of the budget in 1 h   (burn rate 14.4, short window 5 m)
    page    5 % of the budget in 6 h   (burn rate 6,    short window 30 m)
    ticket 10 % of the budget in 1 d   (burn rate 3,    short window 2 h)
    ticket 10 % of the budget in 3 d   (burn rate 1,    short window 6 h)

For another window we keep the burn rates and the shares of budget and scale the windows by
window / 30 d (as Pyrra does). Keeping the windows and changing the burn rates instead (Sloth)
drives the last row below a burn rate of 1 for short windows: a ticket for a service that will
not spend its budget.
"""

from __future__ import annotations

from functools import cache

from slokeeper.slo.objective import (
    AlertKind,
    BurnRateWindow,
    CalendarPeriod,
    CalendarWindow,
    Objective,
    RollingWindow,
    Window,
)

DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0
REFERENCE_WINDOW_SECONDS = 30 * DAY

WORKBOOK_30D = (
    BurnRateWindow(AlertKind.PAGE, long_seconds=1 * HOUR, short_seconds=5 * MINUTE, burn_rate=14.4),
    BurnRateWindow(AlertKind.PAGE, long_seconds=6 * HOUR, short_seconds=30 * MINUTE, burn_rate=6),
    BurnRateWindow(AlertKind.TICKET, long_seconds=1 * DAY, short_seconds=2 * HOUR, burn_rate=3),
    BurnRateWindow(AlertKind.TICKET, long_seconds=3 * DAY, short_seconds=6 * HOUR, burn_rate=1),
)

# A calendar month's budget is sized as 30 days, the reference the workbook was written for.
CALENDAR_SECONDS = {CalendarPeriod.MONTH: 30 * DAY, CalendarPeriod.WEEK: 7 * DAY}


def nominal_seconds(window: Window) -> float:
    """The length the alert table is scaled to: the rolling window, or 30 d / 7 d for calendars."""
    if isinstance(window, RollingWindow):
        return window.seconds
    if isinstance(window, CalendarWindow):
        return CALENDAR_SECONDS[window.period]
    raise TypeError(f"unknown window {window!r}")


@cache  # a handful of window lengths, asked for every SLO every cycle
def scaled_table(window_seconds: float) -> tuple[BurnRateWindow, ...]:
    """The workbook table with its windows scaled to ``window_seconds``, whole seconds."""
    factor = window_seconds / REFERENCE_WINDOW_SECONDS
    return tuple(
        BurnRateWindow(
            row.kind,
            long_seconds=max(1.0, round(row.long_seconds * factor)),
            short_seconds=max(1.0, round(row.short_seconds * factor)),
            burn_rate=row.burn_rate,
        )
        for row in WORKBOOK_30D
    )


def burn_rate_table(objective: Objective) -> tuple[BurnRateWindow, ...]:
    """The rows that alert for this SLO: its custom table, or the scaled workbook table."""
    if objective.alerting.burn_rates:
        return objective.alerting.burn_rates
    return scaled_table(nominal_seconds(objective.window))


def alert_windows(objective: Objective) -> tuple[float, ...]:
    """Every distinct window (long and short) the rules must record, shortest first."""
    table = burn_rate_table(objective)
    return tuple(sorted({row.long_seconds for row in table} | {row.short_seconds for row in table}))


def budget_share(row: BurnRateWindow, window_seconds: float) -> float:
    """Share of the whole budget spent when the row's burn rate holds for its long window."""
    return row.burn_rate * row.long_seconds / window_seconds
