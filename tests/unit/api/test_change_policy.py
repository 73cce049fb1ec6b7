"""ChangePolicy.govern: what a namespace's policy makes of a ChangeRollout's spec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slokeeper.api.change_policy import COPIED_FROM_LABEL, govern
from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.api.rollout_gates import Risk

NOW = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
HOLIDAYS = {"start": "2026-12-20T00:00:00Z", "end": "2027-01-02T00:00:00Z", "reason": "holidays"}
LAUNCH = {"start": "2026-12-24T10:00:00Z", "end": "2026-12-24T14:00:00Z", "reason": "launch"}


def spec(**gates: Any) -> ChangeRolloutSpec:
    return ChangeRolloutSpec.model_validate(
        {"targetRef": {"name": "checkout"}, "risk": "Low", "gates": gates}
    )


def policy(labels: dict[str, str] | None = None, **rules: Any) -> dict[str, Any]:
    metadata = {"name": "default", "namespace": "shop", "labels": labels or {}}
    return {"metadata": metadata, "spec": rules}


def test_the_policy_s_freezes_hold_a_change_whose_rollout_has_none_naming_the_policy() -> None:
    governed = govern(spec(), policy(freezes=[HOLIDAYS]))
    verdict = governed.gates.change_calendar().verdict(NOW)
    assert not verdict.open
    assert "(ChangePolicy shop/default: holidays)" in verdict.message


def test_the_rollout_s_own_freezes_stay_beside_the_policy_s() -> None:
    governed = govern(spec(freezes=[LAUNCH]), policy(freezes=[HOLIDAYS]))
    assert [f.reason for f in governed.gates.freezes] == [
        "launch",
        "ChangePolicy shop/default: holidays",
    ]


def test_a_copy_names_the_policy_it_was_copied_from() -> None:
    copy = policy({COPIED_FROM_LABEL: "slokeeper-system"}, freezes=[{**HOLIDAYS, "reason": ""}])
    verdict = govern(spec(), copy).gates.change_calendar().verdict(NOW)
    assert "(ChangePolicy slokeeper-system/default)" in verdict.message


def test_risk_floor_and_roles_still_apply_and_no_policy_changes_nothing() -> None:
    roles = {
        "roles": [{"name": "on-call", "groups": ["oncall"]}],
        "riskRoles": {"high": ["on-call"]},
    }
    governed = govern(spec(), policy(minimumRisk="High", approval=roles))
    assert governed.risk is Risk.HIGH
    assert governed.gates.approval.roles_for(Risk.HIGH) == ["on-call"]
    assert govern(spec(freezes=[LAUNCH]), None) == spec(freezes=[LAUNCH])
