"""A ChangeRollout's durations that would stall every tick are refused, naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from slokeeper.api.rollout import ChangeRolloutSpec

BASE = {"targetRef": {"name": "checkout"}}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"analysis": {"window": "0s"}}, "analysis.window must be at least 10s and at most 1d"),
        ({"analysis": {"window": "1ms"}}, "analysis.window must be at least 10s and at most 1d"),
        ({"analysis": {"interval": "0s"}}, "analysis.interval must be at least 1s and at most 1h"),
        ({"progressDeadline": "0s"}, "progressDeadline must be at least 10s and at most 1d"),
        ({"progressDeadline": "2d"}, "progressDeadline must be at least 10s and at most 1d"),
    ],
)
def test_a_duration_that_would_stall_every_tick_is_refused(
    spec: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ChangeRolloutSpec.model_validate({**BASE, **spec})


def test_the_edges_are_accepted() -> None:
    spec = ChangeRolloutSpec.model_validate(
        {**BASE, "analysis": {"window": "10s", "interval": "1s"}, "progressDeadline": "1d"}
    )
    assert (spec.analysis.window, spec.progress_deadline) == ("10s", "1d")
