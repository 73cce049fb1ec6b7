"""The gates combined: the most restrictive closed gate wins, and each says why in SRE words."""

from __future__ import annotations

from datetime import UTC, datetime

from slokeeper.rollout.change_calendar import CalendarReason, CalendarVerdict
from slokeeper.rollout.gates import BudgetStanding, GateInputs, combined_gate
from slokeeper.rollout.states import GateKind
from slokeeper.slo.objective import PolicyAction

HEALTHY = BudgetStanding("checkout-availability", True, PolicyAction.NONE, 0.8)
SPENT = BudgetStanding("checkout-availability", True, PolicyAction.FREEZE, -0.125)
LOW = BudgetStanding("checkout-latency", True, PolicyAction.REQUIRE_APPROVAL, 0.1)
CLOSED = CalendarVerdict(
    False,
    CalendarReason.OUTSIDE_WINDOWS,
    "Outside the change windows",
    datetime(2026, 12, 1, 2, tzinfo=UTC),
)
FROZEN = CalendarVerdict(False, CalendarReason.FROZEN, "Change freeze until 2027-01-04")


def test_healthy_budgets_and_no_windows_leave_the_gate_open() -> None:
    assert combined_gate(GateInputs(budgets=[HEALTHY])).kind is GateKind.OPEN


def test_a_spent_budget_blocks_naming_the_slo_and_its_budget() -> None:
    gate = combined_gate(GateInputs(budgets=[HEALTHY, SPENT]))
    assert gate.kind is GateKind.FREEZE
    assert "checkout-availability has -12.5% of its error budget left" in gate.message


def test_an_unknown_or_missing_slo_is_never_an_all_clear() -> None:
    unknown = BudgetStanding("fresh", True, None)
    missing = BudgetStanding("typo", False)
    gate = combined_gate(GateInputs(budgets=[unknown, missing]))
    assert gate.kind is GateKind.FREEZE
    assert "fresh has no error-budget figures yet" in gate.message
    assert "typo not found" in gate.message


def test_a_freeze_period_blocks_like_a_spent_budget() -> None:
    gate = combined_gate(GateInputs(calendar=FROZEN))
    assert (gate.kind, gate.message) == (GateKind.FREEZE, FROZEN.message)


def test_approval_comes_from_risk_or_budget_policy_and_is_met_by_an_approver() -> None:
    by_risk = combined_gate(GateInputs(risk="High", risk_needs_approval=True))
    assert (by_risk.kind, by_risk.message) == (GateKind.APPROVAL, "risk High needs an approval.")
    by_policy = combined_gate(GateInputs(budgets=[LOW]))
    assert by_policy.kind is GateKind.APPROVAL
    assert "checkout-latency has 10.0% of its error budget left" in by_policy.message
    approved = combined_gate(GateInputs(budgets=[LOW], approved_by=["alice"]))
    assert (approved.kind, approved.message) == (GateKind.OPEN, "Approved by alice.")


def test_an_approved_change_still_waits_for_its_window() -> None:
    gate = combined_gate(
        GateInputs(calendar=CLOSED, risk_needs_approval=True, approved_by=["alice"])
    )
    assert gate.kind is GateKind.CALENDAR


def test_an_override_opens_a_freeze_but_not_a_pause() -> None:
    overridden = GateInputs(budgets=[SPENT], calendar=FROZEN, override="bob: hotfix INC-42")
    gate = combined_gate(overridden)
    assert (gate.kind, gate.message) == (GateKind.OPEN, "Gates overridden by bob: hotfix INC-42.")
    paused = GateInputs(budgets=[SPENT], override="bob: hotfix", paused_by="carol")
    assert combined_gate(paused).kind is GateKind.PAUSED


HIGH_ROLES = ("engineering-manager", "on-call")


def test_a_high_risk_change_waits_for_one_approval_per_role() -> None:
    waiting = combined_gate(
        GateInputs(risk="High", roles_needed=HIGH_ROLES, role_approvals=[("on-call", "dana")])
    )
    assert waiting.kind is GateKind.APPROVAL
    assert waiting.message == (
        "Risk High needs approvals as engineering-manager, on-call; waiting for "
        "engineering-manager (given: dana as on-call)."
    )
    both = [("on-call", "dana"), ("engineering-manager", "carol")]
    opened = combined_gate(GateInputs(risk="High", roles_needed=HIGH_ROLES, role_approvals=both))
    assert opened.kind is GateKind.OPEN


def test_one_person_fills_one_role_only() -> None:
    same_person = [("on-call", "dana"), ("engineering-manager", "dana")]
    gate = combined_gate(
        GateInputs(risk="High", roles_needed=HIGH_ROLES, role_approvals=same_person)
    )
    assert gate.kind is GateKind.APPROVAL
    assert "waiting for engineering-manager" in gate.message


def test_an_approval_in_a_role_the_risk_does_not_need_opens_nothing() -> None:
    gate = combined_gate(
        GateInputs(risk="Medium", roles_needed=("peer",), role_approvals=[("on-call", "dana")])
    )
    assert gate.kind is GateKind.APPROVAL
