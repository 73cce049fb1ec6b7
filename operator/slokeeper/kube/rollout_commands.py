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
"step": true, "revision": "<template hash>"}`` (every key but ``by`` optional) or plain text
``<username>[: reason]``; a promote skips every remaining step unless ``"step": true`` asks for
the current step only (what `slokeeper rollout promote` writes; `--full` leaves it out);
the chart's request policy admits either only when it names the person setting it.

The API server's policy reads the start of the text (``{"by": "<username>"``) and whether it
says ``force`` anywhere; JSON can say more than that text shows (a key repeated, later, wins in
a parser; ``"\u0066orce"`` is ``force``). So a JSON request counts only in the form
``request_value`` writes, the keys in its order, with its spacing (or none) and escapes: any
other is refused (never acted on; an Event says why), so what the policy read is what the
operator acts on.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slokeeper.api.base import GROUP
from slokeeper.api.refused_requests import CheckedRequests, Refusal
from slokeeper.rollout.requests import PendingRequests, PersonRequest, Request

PAUSED_ANNOTATION = f"{GROUP}/paused"
ROLE_APPROVAL_PREFIX = f"{GROUP}/approve."
# What status keeps of a request: a longer reason or name is cut, never a tick that fails.
BY_LIMIT = 253
REASON_LIMIT = 1024


def annotation(request: Request) -> str:
    return f"{GROUP}/{request.value}"


class NotCanonicalError(ValueError):
    """A JSON request not in the form `slokeeper rollout` writes: the message says why."""


def _keys_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise NotCanonicalError(f"it repeats the key {', '.join(repeated)}")
    return dict(pairs)


def _typed(fields: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = fields.get(key, default)
    if not isinstance(value, kind):
        raise NotCanonicalError(f"its {key} is not a {kind.__name__}")
    return value


def _canonical(text: str) -> PersonRequest:
    """The request ``text`` asks, if written exactly as ``request_value`` writes it."""
    try:
        fields = json.loads(text, object_pairs_hook=_keys_once)
    except json.JSONDecodeError as error:
        raise NotCanonicalError(f"it is not JSON ({error.msg})") from None
    if not isinstance(fields, dict):
        raise NotCanonicalError("it is not a JSON object")
    by = _typed(fields, "by", str, "")
    if not by or json.dumps(by, ensure_ascii=False) != f'"{by}"':
        raise NotCanonicalError("its by is not a username as the API server knows it")
    person = PersonRequest(
        None,
        by=by,
        reason=_typed(fields, "reason", str, ""),
        force=_typed(fields, "force", bool, False),
        one_step=_typed(fields, "step", bool, False),
        revision=_typed(fields, "revision", str, "") or None,
    )
    fields = _fields(person)
    written = json.dumps(fields, ensure_ascii=False)
    # The same, without spaces (as people type it by hand) says as little to hide.
    if text not in (written, json.dumps(fields, ensure_ascii=False, separators=(",", ":"))):
        raise NotCanonicalError(f"it is not written as slokeeper rollout writes it ({written})")
    return person


def _parse(request: Request | None, value: str) -> PersonRequest:
    """The request ``value`` asks; raises ``NotCanonicalError`` for JSON in another form."""
    text = value.strip()
    if not text.startswith("{"):
        # Plain text is signed like a role approval: `<username>[: reason]`.
        by, _, reason = text.partition(": ")
        return PersonRequest(
            request, by=by.strip()[:BY_LIMIT], reason=reason.strip()[:REASON_LIMIT]
        )
    person = _canonical(value)
    return PersonRequest(
        request,
        by=person.by[:BY_LIMIT],
        reason=person.reason[:REASON_LIMIT],
        force=person.force,
        one_step=person.one_step,
        revision=person.revision,
    )


def checked_requests(
    annotations: dict[str, str] | None,
) -> tuple[dict[Request, PersonRequest], tuple[Refusal, ...]]:
    """The pending requests among a ChangeRollout's annotations, and those refused (why)."""
    found = annotations or {}
    requests, refused = {}, []
    for request in Request:
        key = annotation(request)
        if key not in found:
            continue
        try:
            requests[request] = _parse(request, found[key])
        except NotCanonicalError as error:
            refused.append(Refusal(key, found[key], str(error)))
    return requests, tuple(refused)


def read_requests(annotations: dict[str, str] | None) -> dict[Request, PersonRequest]:
    """The pending requests among a ChangeRollout's annotations (the refused left out)."""
    return checked_requests(annotations)[0]


def read_pause(annotations: dict[str, str] | None) -> PersonRequest | None:
    value = (annotations or {}).get(PAUSED_ANNOTATION)
    if value is None or value.strip().lower() == "false":
        return None
    try:
        return _parse(None, "" if value.strip().lower() == "true" else value)
    except NotCanonicalError as error:
        # A pause holds the change whoever asked: kept (failing safe), signed by nobody.
        return PersonRequest(None, reason=f"a pause nobody signed: {error}"[:REASON_LIMIT])


def request_value(
    *,
    by: str,
    reason: str = "",
    force: bool = False,
    one_step: bool = False,
    revision: str | None = None,
) -> str:
    """The annotation value ``read_requests`` reads back (what `slokeeper rollout …` writes)."""
    person = PersonRequest(
        None, by=by, reason=reason, force=force, one_step=one_step, revision=revision
    )
    return json.dumps(_fields(person), ensure_ascii=False)


def _fields(person: PersonRequest) -> dict[str, Any]:
    """A request's JSON fields, in the one order they are written."""
    fields: dict[str, Any] = {"by": person.by}
    if person.reason:
        fields["reason"] = person.reason
    if person.force:
        fields["force"] = True
    if person.one_step:
        fields["step"] = True
    if person.revision:
        fields["revision"] = person.revision
    return fields


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
        requests, refused = checked_requests(annotations)
        return CheckedRequests(
            requests,
            read_role_approvals(annotations, metadata),
            read_pause(annotations),
            refused=refused,
        )

    def keys(self, pending: PendingRequests) -> list[str]:
        """The annotations to remove once ``pending`` is recorded (the pause stays: a state;
        a refused request goes too, its Event says why)."""
        refused = pending.refused if isinstance(pending, CheckedRequests) else ()
        return (
            [annotation(r) for r in pending.requests]
            + [role_annotation(role) for role in pending.roles]
            + [refusal.key for refusal in refused]
        )
