"""Approvals given in a role (``slokeeper.dev/approve.<role>``): which to record for the change
in progress, and which to refuse because the same person already approved it in another role."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slokeeper.api.rollout_status import ChangeRolloutStatus, PersonAction
from slokeeper.rollout.requests import PersonRequest
from slokeeper.rollout.states import State
from slokeeper.rollout.workload import TargetView


def person_action(request: PersonRequest, now: datetime) -> PersonAction:
    return PersonAction(by=request.by, at=now, reason=request.reason, role=request.role)


def _unbound(request: PersonRequest, template: str, changed: datetime | None) -> str | None:
    """Why the approval cannot be bound to ``template`` (None: it can). An approval counts for
    the template it was given for: one set before this template came (within the same second,
    too) may have been meant for another, and one whose time, or the template's, the API server
    does not tell cannot be shown to be for this one."""
    if request.given_at is None or changed is None:
        unknown = "the approval was set" if request.given_at is None else "the template changed"
        return (
            f"the API server does not say when {unknown} (managedFields), so it cannot count "
            f"for template {template}; the change waits for an approval it can date"
        )
    if request.given_at <= changed:
        return (
            f"it was given before the template changed to {template} ({changed:%H:%M:%S}); "
            "approve again"
        )
    return None


def role_approvals(
    status: ChangeRolloutStatus,
    asked: Mapping[str, PersonRequest],
    target: TargetView,
    before: State,
    now: datetime,
) -> tuple[list[PersonAction], list[tuple[PersonRequest, str]]]:
    """Approvals given in a role for the target's template: accepted, and refused (with why)
    because they were given before the template changed to this one (or either time is not
    known), or the same person already approved this change in another role."""
    if not asked or target.template_hash == before.stable:
        return [], []
    current = status.current
    same = current is not None and current.revision.template_hash == target.template_hash
    role_of = {a.by: a.role for a in (current.approvals if current and same else []) if a.role}
    recorded = set(role_of.items())
    accepted, refused = [], []
    changed = target.template_changed_at
    for role, request in sorted(asked.items()):
        if (request.by, role) in recorded:
            continue  # recorded before a restart, removed only now
        unbound = _unbound(request, target.template_hash, changed)
        if unbound is not None:
            refused.append((request, unbound))
            continue
        if role_of.get(request.by, role) != role:
            refused.append(
                (
                    request,
                    "they already approved this change in another role, and "
                    "each role needs a different person",
                )
            )
            continue
        role_of[request.by] = role
        accepted.append(person_action(request, now))
    return accepted, refused
