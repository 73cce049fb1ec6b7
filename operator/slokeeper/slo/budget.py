"""Error-budget arithmetic: burn rates, budget remaining, and the share of a period elapsed.

All ratios are fractions of events (0.001 = 0.1 %). Budget remaining is 1 when untouched, 0 when
spent, and goes negative when overspent: an SRE needs to know by how much.
"""

from __future__ import annotations


def burn_rate(error_ratio: float, allowed_error_ratio: float) -> float:
    """How many times faster than sustainable the budget is being spent (1 = exactly on target)."""
    if allowed_error_ratio <= 0:
        raise ValueError("the allowed error ratio must be positive (a target below 100 %)")
    return error_ratio / allowed_error_ratio


def budget_consumed(
    error_ratio: float, allowed_error_ratio: float, elapsed_share: float = 1.0
) -> float:
    """Share of the whole period's budget spent so far.

    ``error_ratio`` is measured over the elapsed part of the period; ``elapsed_share`` is that part
    of the whole (1 for a rolling window). Traffic is assumed to continue at the same rate, so a
    calendar month with 2x burn on its first day has spent 2/30 of its budget, not all of it.
    """
    if not 0 <= elapsed_share <= 1:
        raise ValueError(f"elapsed share must be within [0, 1], not {elapsed_share}")
    return burn_rate(error_ratio, allowed_error_ratio) * elapsed_share


def error_budget_remaining(
    error_ratio: float, allowed_error_ratio: float, elapsed_share: float = 1.0
) -> float:
    """1 - budget consumed: the figure SLO dashboards and budget policies use."""
    return 1 - budget_consumed(error_ratio, allowed_error_ratio, elapsed_share)


def sli(error_ratio: float) -> float:
    """The SLI as the share of good events."""
    return 1 - error_ratio
