"""What people ask of a ChangeRollout, written as annotations on it (what `kubectl annotate` and
`slokeeper rollout …` set).

``slokeeper.dev/abort``, ``/promote``, ``/retry``, ``/approve``, ``/override``, ``/drill``,
``/undo`` and ``/restart`` are requests: the operator acts on each once, records it (who, when,
why) in status and removes the annotation.
``slokeeper.dev/paused`` is a state: the rollout stays paused while it is there.
``slokeeper.dev/approve.<role>`` is an approval in a role, valued ``<username>`` or
``<username>: <reason>``: plain text, so that the API server (the slokeeper-approvals
ValidatingAdmissionPolicy) can check that it names the person setting it.

A value is either a JSON object ``{"by": "alice", "reason": "INC-42", "force": true,
"step": true, "revision": "<template hash>"}`` (every key optional) or plain text
``<username>[: reason]``; a promote skips every remaining step unless ``"step": true`` asks for
the current step only (what `slokeeper rollout promote` writes; `--full` leaves it out);
the chart's request policy admits either only when it names the person setting it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slokeeper.api.base import GROUP
from slokeeper.rollout.requests import PendingRequests, PersonRequest, Request

PAUSED_ANNOTATION = f"{GROUP}/paused"
ROLE_APPROVAL_PREFIX = f"{GROUP}/approve."
# What status keeps of a request: a longer reason or name is cut, never a tick that fails.
BY_LIMIT = 253
REASON_LIMIT = 1024


def annotation(request: Request) -> str:
    return f"{GROUP}/{request.value}"


def _parse(request: Request | None, value: str) -> PersonRequest:
    text = value.strip()
    fields: Any = None
    if text.startswith("{"):
        try:
            fields = json.loads(text)
        except json.JSONDecodeError:
            fields = None
    if not isinstance(fields, dict):
        # Plain text is signed like a role approval: `<username>[: reason]`.
        by, _, reason = text.partition(": ")
        return PersonRequest(
            request, by=by.strip()[:BY_LIMIT], reason=reason.strip()[:REASON_LIMIT]
        )
    revision = fields.get("revision")
    return PersonRequest(
        request,
        by=str(fields.get("by", ""))[:BY_LIMIT],
        reason=str(fields.get("reason", ""))[:REASON_LIMIT],
        force=fields.get("force") is True,
        one_step=fields.get("step") is True,
        revision=str(revision) if revision else None,
    )


def read_requests(annotations: dict[str, str] | None) -> dict[Request, PersonRequest]:
    """The pending requests among a ChangeRollout's annotations."""
    found = annotations or {}
    return {
        request: _parse(request, found[annotation(request)])
        for request in Request
        if annotation(request) in found
    }


def read_pause(annotations: dict[str, str] | None) -> PersonRequest | None:
    value = (annotations or {}).get(PAUSED_ANNOTATION)
    if value is None or value.strip().lower() == "false":
        return None
    return _parse(None, "" if value.strip().lower() == "true" else value)


def request_value(
    *,
    by: str,
    reason: str = "",
    force: bool = False,
    one_step: bool = False,
    revision: str | None = None,
) -> str:
    """The annotation value ``read_requests`` reads back (what `slokeeper rollout …` writes)."""
    fields: dict[str, Any] = {"by": by}
    if reason:
        fields["reason"] = reason
    if force:
        fields["force"] = True
    if one_step:
        fields["step"] = True
    if revision:
        fields["revision"] = revision
    return json.dumps(fields)


def role_annotation(role: str) -> str:
    return f"{ROLE_APPROVAL_PREFIX}{role}"


def set_at(metadata: dict[str, Any], key: str) -> datetime | None:
    """When the annotation ``key`` was last set, from the object's managedFields (the time of
    the update by the field manager that owns it); None when they do not say."""
    for entry in metadata.get("managedFields") or []:
        annotations = ((entry.get("fieldsV1") or {}).get("f:metadata") or {}).get(
            "f:annotations"
        ) or {}
        if f"f:{key}" in annotations and entry.get("time"):
            return datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
    return None


def read_role_approvals(
    annotations: dict[str, str] | None, metadata: dict[str, Any] | None = None
) -> dict[str, PersonRequest]:
    """Approvals given in a role: role → who, why and when it was set."""
    approvals = {}
    for key, value in (annotations or {}).items():
        if key.startswith(ROLE_APPROVAL_PREFIX):
            role = key.removeprefix(ROLE_APPROVAL_PREFIX)
            # ": " ends the name: usernames may hold colons (oidc:alice, system:serviceaccount:…).
            by, _, reason = value.partition(": ")
            approvals[role] = PersonRequest(
                Request.APPROVE,
                by=by.strip()[:BY_LIMIT],
                reason=reason.strip()[:REASON_LIMIT],
                role=role,
                given_at=set_at(metadata or {}, key),
            )
    return approvals


def role_approval_value(*, by: str, reason: str = "") -> str:
    """What `slokeeper rollout approve --role` writes: the approver first, as the policy reads."""
    return f"{by}: {reason}" if reason else by


class AnnotationRequests:
    """The rollout loop's request reader: what people asked, as annotations on the ChangeRollout."""

    def read(self, metadata: dict[str, Any]) -> PendingRequests:
        annotations = metadata.get("annotations")
        return PendingRequests(
            read_requests(annotations),
            read_role_approvals(annotations, metadata),
            read_pause(annotations),
        )

    def keys(self, pending: PendingRequests) -> list[str]:
        """The annotations to remove once ``pending`` is recorded (the pause stays: a state)."""
        return [annotation(r) for r in pending.requests] + [
            role_annotation(role) for role in pending.roles
        ]
