"""The gates in front of a change: pause, override, error budgets, freezes, approvals, windows.

The rollout loop gathers each input (SLO statuses, the change calendar's verdict, approvals and
overrides recorded for the candidate template) and asks here for one combined ``Gate``; the state
machine decides what that gate means for the phase it is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slokeeper.rollout.change_calendar import CalendarReason, CalendarVerdict
from slokeeper.rollout.states import Gate, GateKind
from slokeeper.slo.objective import PolicyAction


@dataclass(frozen=True)
class BudgetStanding:
    """One referenced SLO's error-budget policy as its status last reported it.

    ``found`` False: no such SLO. ``action`` None: the SLO has no figures yet. Both hold changes:
    an unknown budget is never taken as an all-clear.
    """

    slo: str
    found: bool
    action: PolicyAction | None = None
    budget_remaining_ratio: float | None = None

    def describe(self) -> str:
        if not self.found:
            return f"ServiceLevelObjective {self.slo} not found"
        if self.action is None:
            return f"SLO {self.slo} has no error-budget figures yet"
        left = (
            f"{self.budget_remaining_ratio * 100:.1f}% of its error budget left"
            if self.budget_remaining_ratio is not None
            else "error budget unknown"
        )
        return f"SLO {self.slo} has {left} (policy: {self.action.value})"


ALWAYS_OPEN = CalendarVerdict(True, CalendarReason.NO_WINDOWS, "No change windows set.")


@dataclass(frozen=True)
class GateInputs:
    budgets: Sequence[BudgetStanding] = ()
    calendar: CalendarVerdict = ALWAYS_OPEN
    risk: str = "Medium"
    risk_needs_approval: bool = False
    approved_by: Sequence[str] = ()
    override: str | None = None  # "by: reason" of an override given for this template
    paused_by: str | None = None
    drill_missing: str | None = None  # why the drill gate is closed, if it is
    roles_needed: Sequence[str] = ()  # each must approve, by distinct people
    role_approvals: Sequence[tuple[str, str]] = ()  # (role, by) given for this template


def combined_gate(inputs: GateInputs) -> Gate:
    """The most restrictive gate that is closed, or an open gate saying why it is open."""
    if inputs.paused_by is not None:
        return Gate(GateKind.PAUSED, f"Paused by {inputs.paused_by or 'a person'}.")
    if inputs.override is not None:
        return Gate(GateKind.OPEN, f"Gates overridden by {inputs.override}.")
    return _policy_gate(inputs)


def _policy_gate(inputs: GateInputs) -> Gate:
    """Budgets and freezes, drills, approvals and change windows, in that order."""
    frozen = [
        b.describe() + "."
        for b in inputs.budgets
        if not b.found or b.action in (None, PolicyAction.FREEZE)
    ]
    if inputs.calendar.reason is CalendarReason.FROZEN:
        frozen.append(inputs.calendar.message)
    if frozen:
        return Gate(GateKind.FREEZE, " ".join(frozen))
    if inputs.drill_missing:
        return Gate(GateKind.DRILL, inputs.drill_missing)
    if inputs.roles_needed:
        missing = _missing_roles(inputs)
        if missing:
            given = [f"{by} as {role}" for role, by in inputs.role_approvals]
            return Gate(
                GateKind.APPROVAL,
                f"Risk {inputs.risk} needs approvals as {', '.join(inputs.roles_needed)}; "
                f"waiting for {', '.join(missing)}"
                + (f" (given: {', '.join(given)})." if given else "."),
            )
    asking = [b for b in inputs.budgets if b.action is PolicyAction.REQUIRE_APPROVAL]
    needs_one = inputs.risk_needs_approval and not inputs.roles_needed
    if (needs_one or asking) and not inputs.approved_by:
        why = [f"risk {inputs.risk} needs an approval"] if needs_one else []
        why += [b.describe() for b in asking]
        return Gate(GateKind.APPROVAL, "; ".join(why) + ".")
    if not inputs.calendar.open:
        return Gate(GateKind.CALENDAR, inputs.calendar.message)
    approved = f"Approved by {', '.join(inputs.approved_by)}." if inputs.approved_by else ""
    return Gate(GateKind.OPEN, approved or "Gates open.")


def _missing_roles(inputs: GateInputs) -> list[str]:
    """Roles still without an approval; one person counts for one role only."""
    filled: dict[str, str] = {}
    people: set[str] = set()
    for role, by in inputs.role_approvals:
        if role in inputs.roles_needed and role not in filled and by not in people:
            filled[role] = by
            people.add(by)
    return [role for role in inputs.roles_needed if role not in filled]
