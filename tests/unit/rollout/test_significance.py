"""The canary fails the comparison only when it is worse than stable beyond chance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokeeper.rollout.significance import compare_error_ratios


def test_a_canary_at_20_percent_errors_is_worse_than_stable_at_0_02() -> None:
    result = compare_error_ratios(200, 1000, 2, 10_000)
    assert result.worse
    assert result.p_value < 1e-10


def test_one_extra_error_in_a_hundred_requests_is_not_evidence() -> None:
    # Fisher's exact test: the one error landed among the canary's 100 of 1,100 requests.
    result = compare_error_ratios(1, 100, 0, 1000)
    assert result.p_value == pytest.approx(100 / 1100)
    assert not result.worse


def test_fisher_agrees_with_a_textbook_table() -> None:
    # 3 of 10 canary requests failed, 0 of 10 stable: p = C(3,3)C(17,7)/C(20,10) = 0.1053
    result = compare_error_ratios(3, 10, 0, 10)
    assert result.p_value == pytest.approx(0.10526, abs=1e-4)
    assert not result.worse
    assert compare_error_ratios(8, 10, 0, 10).worse


def test_a_canary_better_than_stable_is_never_worse() -> None:
    assert not compare_error_ratios(0, 5000, 50, 5000).worse


def test_the_z_statistic_matches_a_hand_computation() -> None:
    # p1 = 0.06, p2 = 0.04, pooled 0.05; z = 0.02 / sqrt(0.05*0.95*(2/1000)) = 2.0520
    result = compare_error_ratios(60, 1000, 40, 1000)
    assert result.z == pytest.approx(2.0520, abs=1e-4)
    assert result.p_value == pytest.approx(0.02008, abs=1e-4)
    assert result.worse


def test_no_errors_anywhere_is_a_pass_not_an_error() -> None:
    result = compare_error_ratios(0, 500, 0, 5000)
    assert not result.worse


@given(st.integers(0, 1000), st.integers(1, 1000), st.integers(0, 1000), st.integers(1, 1000))
def test_a_canary_no_worse_than_stable_never_fails(ce: int, cn: int, se: int, sn: int) -> None:
    ce, se = min(ce, cn), min(se, sn)
    if ce / cn <= se / sn:
        assert not compare_error_ratios(ce, cn, se, sn).worse


def test_requests_are_required() -> None:
    with pytest.raises(ValueError, match="need requests"):
        compare_error_ratios(0, 0, 1, 10)
