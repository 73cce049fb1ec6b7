"""When the error budget runs out if the current burn rate holds.

At a burn rate of 1 the budget lasts exactly the window it is sized for; at ``b`` it is spent
``b`` times as fast, so what is left (a share of the whole budget) lasts
``remaining * window / b``. A calendar period's budget is sized for the whole period; a rolling
window's for its length, and "before the window ends" then means within one window length.

The time left is kept to two significant figures: it shrinks every second, and a status that
changed every cycle would be rewritten every cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

# Beyond this the budget is as good as never exhausted at this rate.
HORIZON_SECONDS = 10 * 365 * 86400.0


@dataclass(frozen=True)
class Exhaustion:
    window: str  # the burn-rate window the forecast extrapolates
    burn_rate: float
    seconds_left: float | None  # None: not within the horizon at this rate
    before_window_ends: bool


def _two_figures(seconds: float) -> float:
    if seconds <= 0:
        return 0.0
    return float(round(seconds, 1 - math.floor(math.log10(seconds))))


def exhaustion(
    *,
    window: str,
    burn_rate: float,
    remaining: float,
    budget_seconds: float,
    now: datetime,
    period_end: datetime | None = None,
) -> Exhaustion:
    """The forecast at one window's burn rate; ``period_end`` for calendar windows."""
    if remaining <= 0:
        return Exhaustion(window, burn_rate, 0.0, True)  # already spent
    if burn_rate <= 0 or remaining * budget_seconds / burn_rate > HORIZON_SECONDS:
        return Exhaustion(window, burn_rate, None, False)
    seconds = remaining * budget_seconds / burn_rate
    until_end = (period_end - now).total_seconds() if period_end is not None else budget_seconds
    return Exhaustion(window, burn_rate, _two_figures(seconds), seconds <= until_end)
