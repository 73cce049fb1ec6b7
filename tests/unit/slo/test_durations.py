"""Prometheus durations are read exactly as Prometheus reads them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.durations import UNIT_SECONDS, duration_seconds


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("28d", 28 * 86400),
        ("1w", 604800),
        ("500ms", 0.5),
    ],
)
def test_common_durations(duration: str, seconds: float) -> None:
    assert duration_seconds(duration) == seconds


@pytest.mark.parametrize("text", ["", "5", "m5", "5 m", "-5m", "1.5h", "5M"])
def test_what_prometheus_refuses_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="such as 30s, 5m, 1h or 28d"):
        duration_seconds(text)


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(UNIT_SECONDS))), min_size=1)
)
def test_a_compound_duration_is_the_sum_of_its_parts(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{count}{unit}" for count, unit in parts)
    assert duration_seconds(text) == pytest.approx(
        sum(count * UNIT_SECONDS[unit] for count, unit in parts)
    )
