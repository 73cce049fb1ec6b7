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
) -> tuple[list[PersonAction], list[PersonRequest]]:
    """Approvals given in a role for the target's template: accepted, and refused because the
    same person already approved this change in another role."""
    if not asked or target.template_hash == before.stable:
        return [], []
    current = status.current
    same = current is not None and current.revision.template_hash == target.template_hash
    role_of = {a.by: a.role for a in (current.approvals if current and same else []) if a.role}
    recorded = set(role_of.items())
    accepted, refused = [], []
    for role, request in sorted(asked.items()):
        if (request.by, role) in recorded:
            continue  # recorded before a restart, removed only now
        if role_of.get(request.by, role) != role:
            refused.append(request)
            continue
        role_of[request.by] = role
        accepted.append(person_action(request, now))
    return accepted, refused
