"""Budget exhaustion forecasts: remaining budget over the spending rate the burn rate implies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.forecast import exhaustion

NOW = datetime(2026, 11, 26, 2, tzinfo=UTC)
DAY = 86400.0


def test_half_a_budget_at_twice_the_sustainable_rate_lasts_a_quarter_window() -> None:
    forecast = exhaustion(
        window="1h", burn_rate=2.0, remaining=0.5, budget_seconds=28 * DAY, now=NOW
    )
    assert forecast.seconds_left == 600_000  # 7 days = 604800 s, to two significant figures
    assert forecast.before_window_ends


def test_a_calendar_month_that_ends_first_is_not_exhausted_before_its_end() -> None:
    month_end = NOW + timedelta(days=4)
    forecast = exhaustion(
        window="3d",
        burn_rate=1.5,
        remaining=0.3,
        budget_seconds=30 * DAY,
        now=NOW,
        period_end=month_end,
    )
    assert forecast.seconds_left == 520000  # 6 days, to two significant figures
    assert not forecast.before_window_ends


def test_no_burn_means_no_exhaustion_and_a_spent_budget_is_exhausted_now() -> None:
    quiet = exhaustion(window="1h", burn_rate=0.0, remaining=0.9, budget_seconds=DAY, now=NOW)
    assert (quiet.seconds_left, quiet.before_window_ends) == (None, False)
    spent = exhaustion(window="1h", burn_rate=3.0, remaining=-0.1, budget_seconds=DAY, now=NOW)
    assert (spent.seconds_left, spent.before_window_ends) == (0.0, True)
    trickle = exhaustion(window="1h", burn_rate=1e-300, remaining=1.0, budget_seconds=DAY, now=NOW)
    assert trickle.seconds_left is None


@given(
    remaining=st.floats(0.01, 1.0),
    burn=st.floats(0.01, 100.0),
    faster=st.floats(1.01, 10.0),
)
def test_burning_faster_never_forecasts_a_later_exhaustion(
    remaining: float, burn: float, faster: float
) -> None:
    slow = exhaustion(window="1h", burn_rate=burn, remaining=remaining, budget_seconds=DAY, now=NOW)
    fast = exhaustion(
        window="1h", burn_rate=burn * faster, remaining=remaining, budget_seconds=DAY, now=NOW
    )
    assert slow.seconds_left is not None
    assert fast.seconds_left is not None
    assert fast.seconds_left <= slow.seconds_left
    # A burn rate above the share of budget left exhausts it within one window length (away
    # from the boundary, where datetimes round to microseconds).
    if abs(burn - remaining) > 1e-6:
        assert slow.before_window_ends == (burn > remaining)
