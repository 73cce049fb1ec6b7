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


def role_approvals(
    status: ChangeRolloutStatus,
    asked: Mapping[str, PersonRequest],
    target: TargetView,
    before: State,
    now: datetime,
) -> tuple[list[PersonAction], list[tuple[PersonRequest, str]]]:
    """Approvals given in a role for the target's template: accepted, and refused (with why)
    because they were given before the template changed to this one, or the same person
    already approved this change in another role."""
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
        if request.given_at is not None and changed is not None and request.given_at <= changed:
            # An approval counts for the template it was given for: one set before this template
            # came (within the same second, too) may have been meant for another.
            refused.append(
                (
                    request,
                    f"it was given before the template changed to "
                    f"{target.template_hash} ({changed:%H:%M:%S}); approve again",
                )
            )
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
