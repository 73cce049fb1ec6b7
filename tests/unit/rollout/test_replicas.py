"""Canary replicas: the closest share to the step's weight, never zero."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokeeper.rollout.replicas import actual_weight_percent, canary_replicas


@pytest.mark.parametrize(
    ("stable", "weight", "canary", "actual"),
    [
        (4, 5, 1, 20.0),  # the smallest canary there is
        (19, 5, 1, 5.0),
        (20, 25, 7, 25.925925925925927),  # 7/27 is closer to 25 % than 6/26
        (10, 50, 10, 50.0),
        (0, 25, 1, 100.0),  # nothing stable to share with
    ],
)
def test_examples(stable: int, weight: float, canary: int, actual: float) -> None:
    assert canary_replicas(stable, weight) == canary
    assert actual_weight_percent(stable, canary) == pytest.approx(actual)


@given(st.integers(0, 500), st.floats(0.5, 99.5))
def test_never_zero_and_no_integer_is_closer(stable: int, weight: float) -> None:
    chosen = canary_replicas(stable, weight)
    assert chosen >= 1
    error = abs(actual_weight_percent(stable, chosen) - weight)
    for other in range(1, max(2, 3 * chosen + 3)):
        assert error <= abs(actual_weight_percent(stable, other) - weight) + 1e-9


@given(st.integers(1, 500), st.floats(0.5, 99.0), st.floats(0.5, 99.0))
def test_a_higher_weight_never_means_fewer_canary_pods(
    stable: int, low: float, high: float
) -> None:
    if low > high:
        low, high = high, low
    assert canary_replicas(stable, low) <= canary_replicas(stable, high)


def test_weights_outside_0_and_100_are_refused() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 100"):
        canary_replicas(4, 100)
