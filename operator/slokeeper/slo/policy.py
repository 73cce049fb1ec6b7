"""The error-budget policy: which action on changes the remaining budget puts in force."""

from __future__ import annotations

from collections.abc import Sequence

from slokeeper.slo.objective import PolicyAction, PolicyThreshold


def policy_action(
    thresholds: Sequence[PolicyThreshold], budget_remaining_ratio: float | None
) -> PolicyAction | None:
    """The action of the lowest threshold the budget is below; ``none`` above them all.

    Thresholds come highest first (the API server enforces it). Without figures (no data yet)
    there is no action to report: None, which gates treat as unknown, never as "all clear".
    """
    if budget_remaining_ratio is None:
        return None
    remaining_percent = budget_remaining_ratio * 100
    action = PolicyAction.NONE
    for threshold in thresholds:
        if remaining_percent < threshold.below_percent:
            action = threshold.action
    return action
