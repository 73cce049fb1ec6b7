"""Prometheus durations are read exactly as Prometheus reads them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.durations import UNIT_SECONDS, duration_seconds, format_duration


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


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (280, "4m40s"), (3600, "1h"), (86400 * 2 + 3600 * 19 + 720, "2d19h12m")],
)
def test_windows_are_written_back_as_short_prometheus_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_a_written_duration_reads_back_as_the_same_seconds(seconds: int) -> None:
    assert duration_seconds(format_duration(seconds)) == seconds
