"""The guarded Deployment's own ReplicaSets: which templates its pods run, who last changed it, and
putting it back on its stable pods after a hand resume or a promotion stopped half-way.

A paused Deployment is never rolled out by its controller, but it is still scaled: when one
ReplicaSet holds pods, the controller brings that one to the Deployment's replicas; when none
does, it scales up the ReplicaSet of the current template or, with that one gone, the newest. So,
to leave only stable pods in a paused target:
- the stable ReplicaSet still has pods: scale every other one to 0; the controller then tops the
  stable one up to full strength, at the pace its pods become Ready;
- it has none left (all pods were taken over): delete the ReplicaSets that are not stable and
  newer than it (the current template's included; paused, the controller does not create it
  again), so the stable one is the newest left and the controller scales it up.
With the stable ReplicaSet gone altogether there is nothing safe to do, and an Event says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.kube.canary import template_hash, without_metadata_key
from slokeeper.rollout.workload import ReplicaSetView, TargetView

FIELD_MANAGER = "slokeeper"
# `slokeeper rollout undo` sets the template under a name of its own, so a tick that sees the
# template before the undo's request (a second write) knows one is coming.
UNDO_FIELD_MANAGER = "slokeeper-rollout-undo"
POD_TEMPLATE_HASH = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
PAUSE_OBSERVED_SECONDS = 3.0


def _deployment_template(api: client.ApiClient, replica_set: Any) -> dict[str, Any]:
    """The Deployment template a ReplicaSet was made from (the controller adds its
    pod-template-hash label to the copy)."""
    template: dict[str, Any] = api.sanitize_for_serialization(replica_set.spec.template)  # type: ignore[no-untyped-call]
    return without_metadata_key(template, "labels", POD_TEMPLATE_HASH)


def restart_hash(template: dict[str, Any]) -> str:
    """The template's hash with its restartedAt annotation left out: equal for a template and
    its restarts."""
    return template_hash(without_metadata_key(template, "annotations", RESTARTED_AT))


def _selector(body: dict[str, Any]) -> str:
    labels = (body["spec"].get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _owned_replica_sets(api: client.ApiClient, body: dict[str, Any]) -> list[Any]:
    """The Deployment's own ReplicaSets, oldest first."""
    meta = body["metadata"]
    found: Any = client.AppsV1Api(api).list_namespaced_replica_set(
        meta["namespace"], label_selector=_selector(body)
    )
    owned = [
        rs
        for rs in found.items
        if any(o.uid == meta["uid"] for o in rs.metadata.owner_references or ())
    ]
    return sorted(owned, key=lambda rs: rs.metadata.creation_timestamp)


def read_replica_sets(api: client.ApiClient, body: dict[str, Any]) -> tuple[ReplicaSetView, ...]:
    """The target's own ReplicaSets (owned by it), oldest first."""
    owned = _owned_replica_sets(api, body)
    templates = [_deployment_template(api, rs) for rs in owned]
    return tuple(
        ReplicaSetView(
            name=rs.metadata.name,
            template_hash=template_hash(template),
            restart_hash=restart_hash(template),
            replicas=int(rs.spec.replicas or 0),
            ready_replicas=int((rs.status and rs.status.ready_replicas) or 0),
            pod_template_hash=(rs.metadata.labels or {}).get(POD_TEMPLATE_HASH, ""),
        )
        for rs, template in zip(owned, templates, strict=True)
    )


@dataclass(frozen=True)
class DeploymentRevision:
    """A revision of the Deployment, as `kubectl rollout history` numbers them."""

    number: int
    template_hash: str
    template: dict[str, Any]


def read_revisions(api: client.ApiClient, body: dict[str, Any]) -> list[DeploymentRevision]:
    """Every revision the Deployment's ReplicaSets still hold, newest first."""
    found = [
        DeploymentRevision(
            int((rs.metadata.annotations or {}).get(REVISION_ANNOTATION, "0")),
            template_hash(template := _deployment_template(api, rs)),
            template,
        )
        for rs in _owned_replica_sets(api, body)
    ]
    return sorted(found, key=lambda revision: revision.number, reverse=True)


def put_template(api: client.ApiClient, body: dict[str, Any], template: dict[str, Any]) -> str:
    """Set the Deployment's pod template (what `kubectl rollout undo` does); its new hash."""
    patch: Any = [{"op": "replace", "path": "/spec/template", "value": template}]
    return _patched_template(api, body, patch, field_manager=UNDO_FIELD_MANAGER)


def restart_pods(api: client.ApiClient, body: dict[str, Any], at: str) -> str:
    """Stamp the template with restartedAt (what `kubectl rollout restart` does); its new hash."""
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}
    return _patched_template(api, body, patch)


def _patched_template(
    api: client.ApiClient, body: dict[str, Any], patch: Any, **options: Any
) -> str:
    meta = body["metadata"]
    done: Any = client.AppsV1Api(api).patch_namespaced_deployment(
        meta["name"], meta["namespace"], patch, **options
    )
    patched: dict[str, Any] = api.sanitize_for_serialization(done.spec.template)  # type: ignore[no-untyped-call]
    return template_hash(patched)


def progress(body: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """From the Deployment's Progressing condition: when its rollout last made progress, and
    when it gave up (ProgressDeadlineExceeded), if it did."""
    conditions = (body.get("status") or {}).get("conditions") or []
    found = next((c for c in conditions if c.get("type") == "Progressing"), None)
    if found is None or not found.get("lastUpdateTime"):
        return None, None
    at = datetime.fromisoformat(str(found["lastUpdateTime"]).replace("Z", "+00:00"))
    stalled = found.get("status") == "False" and found.get("reason") == "ProgressDeadlineExceeded"
    return (None, at) if stalled else (at, None)


def template_changed_at(body: dict[str, Any]) -> datetime | None:
    """When the Deployment's pod template last changed, as its managedFields tell it (the latest
    update by a field manager owning part of the template: never earlier than the change)."""
    times = [
        datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
        for entry in body["metadata"].get("managedFields") or []
        if entry.get("time") and "f:template" in ((entry.get("fieldsV1") or {}).get("f:spec") or {})
    ]
    return max(times, default=None)


def undone_at(body: dict[str, Any]) -> datetime | None:
    """When `slokeeper rollout undo` set the Deployment's template, if it was the last to."""
    changed = template_changed_at(body)
    for entry in body["metadata"].get("managedFields") or []:
        if entry.get("manager") == UNDO_FIELD_MANAGER and entry.get("time"):
            at = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
            if at == changed:
                return at
    return None


def changed_by(body: dict[str, Any]) -> str:
    """The last tool other than slokeeper to change the Deployment's spec, as its managedFields
    tell (kubectl-set, kubectl-edit, argocd-controller …), and when. A resume leaves no trace
    there (``paused: false`` is the field's absence), so who resumed it is only in the API
    server's audit log."""
    entries = [
        entry
        for entry in body["metadata"].get("managedFields") or []
        if entry.get("manager") != FIELD_MANAGER
        and "f:spec" in (entry.get("fieldsV1") or {})
        and entry.get("subresource", "") == ""
    ]
    latest = max(entries, key=lambda e: str(e.get("time", "")), default=None)
    if latest is None:
        return ""
    return f"{latest.get('manager', 'unknown')} at {latest.get('time', '?')}"


def _await_pause_observed(apps: client.AppsV1Api, target: TargetView) -> None:
    """Wait (a few seconds at most) until the Deployment controller has seen the pause this tick
    set: scaled down before that, a ReplicaSet of a rollout still under way is scaled up again."""
    deadline = time.monotonic() + PAUSE_OBSERVED_SECONDS
    while time.monotonic() < deadline:
        found: Any = apps.read_namespaced_deployment(target.name, target.namespace)
        observed = (found.status and found.status.observed_generation) or 0
        if found.spec.paused and observed >= (found.metadata.generation or 0):
            return
        time.sleep(0.1)


def restore_stable_pods(
    api: client.ApiClient, target: TargetView, stable: str, record: Any
) -> None:
    """Leave only pods of the ``stable`` template in the (paused) target; ``record(reason,
    message)`` says when that cannot be done."""
    apps, namespace = client.AppsV1Api(api), target.namespace
    others = [rs for rs in target.replica_sets if rs.template_hash != stable and rs.replicas]
    if not others:
        return
    keep = next((rs for rs in target.replica_sets if rs.template_hash == stable), None)
    if keep is None:
        record(
            "StableReplicaSetMissing",
            f"Pods of a template no analysis passed run in {target.name}, and no ReplicaSet of "
            f"the stable template {stable} is left to bring back: roll back with `slokeeper "
            f"rollout undo {target.name}`.",
        )
        return
    _await_pause_observed(apps, target)
    if keep.replicas:
        for rs in others:
            apps.patch_namespaced_replica_set(
                rs.name, namespace, {"spec": {"replicas": 0}}, field_manager=FIELD_MANAGER
            )
        return
    newer = target.replica_sets[target.replica_sets.index(keep) + 1 :]
    for rs in {*others, *newer}:
        try:
            apps.delete_namespaced_replica_set(rs.name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
