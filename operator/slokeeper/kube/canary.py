"""The canary Deployment, built from the guarded target without ever touching the target's spec.

The canary runs the candidate pod template with the target's own pod labels (so the same Service
sends it traffic) plus ``slokeeper.dev/track: canary``, which its selector also requires so it
never claims the target's pods; the target's ReplicaSets never adopt the canary's pods either,
because those are owned. Templates are compared by a hash of their canonical JSON.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from slokeeper.api.references import ObjectRef

TRACK_LABEL = "slokeeper.dev/track"
TEMPLATE_ANNOTATION = "slokeeper.dev/template-hash"
# Fields the API server or controllers add to a template; they are not part of a change.
_VOLATILE_TEMPLATE_FIELDS = ("creationTimestamp",)


def template_hash(template: dict[str, Any]) -> str:
    """A short, stable name for a pod template: equal templates, equal hashes."""
    canonical = copy.deepcopy(template)
    metadata = canonical.get("metadata") or {}
    for field in _VOLATILE_TEMPLATE_FIELDS:
        metadata.pop(field, None)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def without_metadata_key(template: dict[str, Any], part: str, key: str) -> dict[str, Any]:
    """``template`` with one of its ``labels`` or ``annotations`` taken off (what a controller
    or a command added to a copy), the rest left as it was."""
    metadata = dict(template.get("metadata") or {})
    metadata[part] = {k: v for k, v in (metadata.get(part) or {}).items() if k != key}
    return {**template, "metadata": metadata}


def canary_template_hash(template: dict[str, Any]) -> str:
    """The hash of the target template a canary's pod template was made from: the canary's own
    label taken off again, so a canary edited by hand no longer matches its candidate."""
    return template_hash(without_metadata_key(template, "labels", TRACK_LABEL))


def canary_name(target_name: str) -> str:
    return f"{target_name}-canary"


def canary_deployment(
    target: dict[str, Any], template: dict[str, Any], replicas: int, owner: ObjectRef
) -> dict[str, Any]:
    """The canary Deployment for ``template`` next to ``target`` (both as API dicts)."""
    target_meta = target["metadata"]
    pod_template = copy.deepcopy(template)
    pod_meta = pod_template.setdefault("metadata", {})
    pod_meta["labels"] = {**(pod_meta.get("labels") or {}), TRACK_LABEL: "canary"}
    selector = copy.deepcopy(target["spec"]["selector"])
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), TRACK_LABEL: "canary"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": canary_name(target_meta["name"]),
            "namespace": target_meta["namespace"],
            "labels": {**(target_meta.get("labels") or {}), TRACK_LABEL: "canary"},
            "annotations": {TEMPLATE_ANNOTATION: template_hash(template)},
            "ownerReferences": [owner.owner_reference()],
        },
        "spec": {
            "replicas": replicas,
            "selector": selector,
            "template": pod_template,
        },
    }
