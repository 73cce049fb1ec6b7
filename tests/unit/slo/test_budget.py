"""Error budget maths, as an SRE reads it off a dashboard."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.budget import budget_consumed, burn_rate, error_budget_remaining, sli

targets = st.floats(min_value=50, max_value=99.999)


def test_a_99_9_target_with_0_2_percent_errors_burns_twice_as_fast_as_allowed() -> None:
    assert burn_rate(0.002, 0.001) == pytest.approx(2)
    assert error_budget_remaining(0.002, 0.001) == pytest.approx(-1)
    assert sli(0.002) == pytest.approx(0.998)


@given(targets)
def test_burn_rate_one_spends_exactly_the_whole_budget_over_the_window(target: float) -> None:
    allowed = 1 - target / 100
    assert budget_consumed(allowed, allowed) == pytest.approx(1)
    assert error_budget_remaining(allowed, allowed) == pytest.approx(0, abs=1e-9)


@given(targets, st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=50))
def test_budget_spent_grows_with_time_elapsed_and_with_burn_rate(
    target: float, elapsed: float, burn: float
) -> None:
    allowed = 1 - target / 100
    consumed = budget_consumed(burn * allowed, allowed, elapsed)
    assert consumed == pytest.approx(burn * elapsed, rel=1e-9, abs=1e-12)


def test_two_times_burn_on_day_one_of_a_month_spends_a_fifteenth_of_it() -> None:
    assert error_budget_remaining(0.002, 0.001, elapsed_share=1 / 30) == pytest.approx(1 - 2 / 30)


def test_nonsense_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        burn_rate(0.1, 0)
    with pytest.raises(ValueError, match="elapsed share"):
        budget_consumed(0.1, 0.01, 1.5)
