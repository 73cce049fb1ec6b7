"""The budget policy in force follows the budget down, and is unknown without figures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.objective import PolicyAction, PolicyThreshold
from slokeeper.slo.policy import policy_action

POLICY = (
    PolicyThreshold(25, PolicyAction.REQUIRE_APPROVAL),
    PolicyThreshold(0, PolicyAction.FREEZE),
)
STRICTNESS = {PolicyAction.NONE: 0, PolicyAction.REQUIRE_APPROVAL: 1, PolicyAction.FREEZE: 2}


def test_actions_at_each_level_of_budget() -> None:
    assert policy_action(POLICY, 0.80) is PolicyAction.NONE
    assert policy_action(POLICY, 0.25) is PolicyAction.NONE
    assert policy_action(POLICY, 0.10) is PolicyAction.REQUIRE_APPROVAL
    assert policy_action(POLICY, -0.5) is PolicyAction.FREEZE


def test_no_figures_means_no_verdict_rather_than_all_clear() -> None:
    assert policy_action(POLICY, None) is None


def test_without_thresholds_changes_are_never_held() -> None:
    assert policy_action((), -3.0) is PolicyAction.NONE


@given(st.floats(-5, 1), st.floats(-5, 1))
def test_less_budget_is_never_less_strict(higher: float, lower: float) -> None:
    if lower > higher:
        higher, lower = lower, higher
    stricter = policy_action(POLICY, lower)
    looser = policy_action(POLICY, higher)
    assert stricter is not None
    assert looser is not None
    assert STRICTNESS[stricter] >= STRICTNESS[looser]
