"""The gates of one tick: approvals and an override asked for the target's template, the ones
already recorded for it, the named SLOs' budget policies, the change calendar, a drill wanted
and a pause, put together for the core's ``combined_gate``."""

from __future__ import annotations

from typing import Any

from slokeeper.api.rollout_status import PersonAction
from slokeeper.loops.rollout.drills import drill_missing
from slokeeper.loops.rollout.observed import Observed
from slokeeper.loops.rollout.role_approvals import person_action
from slokeeper.rollout.gates import BudgetStanding, GateInputs, combined_gate
from slokeeper.rollout.requests import PersonRequest, Request
from slokeeper.rollout.states import Gate
from slokeeper.slo.objective import PolicyAction


def person_gates(seen: Observed) -> tuple[list[PersonAction], PersonAction | None]:
    """New approvals and the override for the target's template (those already recorded for
    it come from status)."""

    def for_this_template(request: PersonRequest | None) -> bool:
        # An approval counts for the template it names only: one given while another template
        # waited must not let a template swapped in since through.
        return (
            request is not None
            and seen.target.template_hash != seen.before.stable
            and request.revision == seen.target.template_hash
        )

    approvals = []
    approval = seen.asked.requests.get(Request.APPROVE)
    if approval is not None and for_this_template(approval):
        approvals.append(person_action(approval, seen.now))
    asked = seen.asked.requests.get(Request.OVERRIDE)
    # An override without a reason is not one: the reason is what the postmortem reads.
    if asked is not None and asked.reason and for_this_template(asked):
        return approvals, person_action(asked, seen.now)
    return approvals, None


def _budget(slo: str, body: dict[str, Any] | None) -> BudgetStanding:
    if body is None:
        return BudgetStanding(slo, found=False)
    status = body.get("status") or {}
    action = status.get("policyAction")
    return BudgetStanding(
        slo,
        found=True,
        action=PolicyAction(action) if action else None,
        budget_remaining_ratio=status.get("errorBudgetRemainingRatio"),
    )


def gate(seen: Observed, approvals: list[PersonAction], override: PersonAction | None) -> Gate:
    """Whether the target's template may start or go on, with this tick's approvals and
    override added to those recorded for the same template."""
    spec, current = seen.spec, seen.status.current
    same = current is not None and current.revision.template_hash == seen.target.template_hash
    recorded = current if current is not None and same else None
    every = [*(recorded.approvals if recorded else []), *approvals]
    overridden = override or (recorded.override if recorded else None)
    return combined_gate(
        GateInputs(
            budgets=[_budget(slo, seen.read_slo(slo)) for slo in spec.gates.slo_budget_policies],
            calendar=seen.calendar,
            risk=spec.risk.value,
            risk_needs_approval=spec.risk in spec.gates.approval.required_for,
            approved_by=[a.who for a in every],
            drill_missing=drill_missing(spec, seen.status, seen.now),
            roles_needed=spec.gates.approval.roles_for(spec.risk),
            role_approvals=[(a.role, a.by) for a in every if a.role],
            override=f"{overridden.who}: {overridden.reason}" if overridden else None,
            paused_by=seen.asked.pause.signed() if seen.asked.pause else None,
        )
    )
