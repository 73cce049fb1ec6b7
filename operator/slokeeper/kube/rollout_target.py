"""Reads the guarded Deployment for the rollout loop, and applies the state machine's actions.

Every action states an end, not a step: pause sets ``spec.paused: true`` (a no-op when already
so), the canary is created or replaced to the wanted template and replicas, deletion tolerates a
canary already gone. Applying an action twice, or again after a restart, changes nothing.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP
from slokeeper.api.references import ObjectRef
from slokeeper.kube.canary import (
    TRACK_LABEL,
    canary_deployment,
    canary_name,
    canary_template_hash,
    template_hash,
)
from slokeeper.kube.pod_problems import pods_not_ready
from slokeeper.kube.target_pods import (
    FIELD_MANAGER,
    POD_TEMPLATE_HASH,
    changed_by,
    progress,
    read_replica_sets,
    restart_hash,
    restore_stable_pods,
    template_changed_at,
    undone_at,
)
from slokeeper.rollout.states import (
    Action,
    DeleteCanary,
    EnsureCanary,
    Event,
    PauseTarget,
    RestoreStablePods,
    ResumeTarget,
)
from slokeeper.rollout.workload import (
    CanaryView,
    ReplicaSetView,
    TargetMissingError,
    TargetView,
    replicas_set_by,
)


def read_target(api: client.ApiClient, namespace: str, name: str) -> TargetView:
    try:
        body: dict[str, Any] = api.sanitize_for_serialization(  # type: ignore[no-untyped-call]
            client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
        )
    except ApiException as error:
        if error.status == 404:
            raise TargetMissingError(f"Deployment {namespace}/{name} not found") from error
        raise
    spec, status = body["spec"], body.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    rolled_out = (
        not spec.get("paused", False)
        and status.get("observedGeneration", 0) >= body["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
        and status.get("replicas", 0) == replicas
    )
    current = template_hash(spec["template"])
    replica_sets = read_replica_sets(api, body)
    progressed_at, stalled_at = progress(body)
    return TargetView(
        body,
        current,
        replicas,
        bool(spec.get("paused")),
        rolled_out,
        available=status.get("availableReplicas", 0) >= replicas,
        replica_sets=replica_sets,
        progressed_at=progressed_at,
        stalled_at=stalled_at,
        changed_by=changed_by(body),
        guarded_by=(body["metadata"].get("annotations") or {}).get(GUARDED_BY_ANNOTATION),
        restart_hash=restart_hash(spec["template"]),
        template_changed_at=template_changed_at(body),
        undone_at=undone_at(body),
        problems=_rolling_out_problems(api, body, current, replica_sets),
    )


def _rolling_out_problems(
    api: client.ApiClient,
    body: dict[str, Any],
    current: str,
    replica_sets: tuple[ReplicaSetView, ...],
) -> tuple[str, ...]:
    """While the target rolls its template out: what its new pods that are not Ready say."""
    new = next((rs for rs in replica_sets if rs.template_hash == current), None)
    if body["spec"].get("paused") or new is None or new.ready_replicas >= new.replicas:
        return ()
    selector = f"{POD_TEMPLATE_HASH}={new.pod_template_hash}"
    return pods_not_ready(api, body["metadata"]["namespace"], selector)


class TargetActions:
    """Applies state-machine actions to the target Deployment and its canary."""

    def __init__(self, api: client.ApiClient, events: Any, owner: ObjectRef) -> None:
        self._api = api
        self._apps = client.AppsV1Api(api)
        self._events = events
        self._owner = owner

    def apply(self, target: TargetView, actions: tuple[Action, ...]) -> None:
        namespace = target.body["metadata"]["namespace"]
        name = target.body["metadata"]["name"]
        for action in actions:
            if isinstance(action, PauseTarget | ResumeTarget):
                paused = isinstance(action, PauseTarget)
                if target.paused != paused:
                    self._apps.patch_namespaced_deployment(
                        name, namespace, {"spec": {"paused": paused}}, field_manager=FIELD_MANAGER
                    )
            elif isinstance(action, EnsureCanary):
                self._ensure_canary(target, action)
            elif isinstance(action, DeleteCanary):
                self._delete_canary(canary_name(name), namespace)
            elif isinstance(action, RestoreStablePods):
                restore_stable_pods(self._api, target, action.stable, self._record_warning)
            elif isinstance(action, Event):
                self._events.record(
                    self._owner, action.reason, action.message, warning=action.warning
                )

    def _delete_canary(self, name: str, namespace: str) -> None:
        """Delete the canary if it is this ChangeRollout's (owner reference), and only that very
        object (uid precondition): a Deployment someone else named ``<target>-canary`` stays."""
        try:
            found: Any = self._apps.read_namespaced_deployment(name, namespace)
            if _owner_uid(found) != self._owner.uid:
                return
            self._apps.delete_namespaced_deployment(
                name,
                namespace,
                body=client.V1DeleteOptions(
                    preconditions=client.V1Preconditions(uid=found.metadata.uid)
                ),
            )
        except ApiException as error:
            if error.status not in (404, 409):  # gone, or replaced since it was read
                raise

    def _record_warning(self, reason: str, message: str) -> None:
        self._events.record(self._owner, reason, message, warning=True)

    def _ensure_canary(self, target: TargetView, action: EnsureCanary) -> None:
        if action.template != target.template_hash:
            raise ValueError(
                f"the canary must run the target's current template {target.template_hash}, "
                f"not {action.template}"
            )
        # The client takes plain dicts as bodies; its stubs only name the model classes.
        wanted: Any = canary_deployment(
            target.body, target.body["spec"]["template"], action.replicas, self._owner
        )
        namespace, name = wanted["metadata"]["namespace"], wanted["metadata"]["name"]
        try:
            current: Any = self._apps.read_namespaced_deployment(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
            if action.seen_replicas is not None:
                return  # deleted since the tick looked: the next tick says so, and recreates it
            self._apps.create_namespaced_deployment(namespace, wanted, field_manager=FIELD_MANAGER)
            return
        if _owner_uid(current) != self._owner.uid:
            raise ForeignCanaryError(
                f"Deployment {namespace}/{name} is not this ChangeRollout's canary: left alone"
            )
        running: dict[str, Any] = self._apps.api_client.sanitize_for_serialization(
            current.spec.template
        )
        if canary_template_hash(running) == action.template and current.spec.replicas == (
            action.replicas
        ):
            return
        if _scaled_since(self._api, current, action):
            return  # by another hand since the tick looked: the next tick says so, and undoes it
        wanted["metadata"]["resourceVersion"] = current.metadata.resource_version
        # As slokeeper's field manager: a hand `kubectl scale` then shows as another's.
        self._apps.replace_namespaced_deployment(
            name, namespace, wanted, field_manager=FIELD_MANAGER
        )


def _scaled_since(api: client.ApiClient, current: Any, action: EnsureCanary) -> bool:
    """The canary's replicas were set by someone other than slokeeper after the tick saw them."""
    if action.seen_replicas is None or current.spec.replicas == action.seen_replicas:
        return False
    metadata: dict[str, Any] = api.sanitize_for_serialization(current.metadata)  # type: ignore[no-untyped-call]
    return bool(replicas_set_by(metadata, FIELD_MANAGER))


class ForeignCanaryError(RuntimeError):
    """``<target>-canary`` exists and is not the ChangeRollout's own: it is never touched."""


def _owner_uid(deployment: Any) -> str | None:
    """The uid of the ChangeRollout that owns a canary Deployment, if one does."""
    owners = deployment.metadata.owner_references or ()
    return next((o.uid for o in owners if o.kind == "ChangeRollout"), None)


def read_canary(api: client.ApiClient, namespace: str, target: str) -> CanaryView:
    try:
        found: Any = client.AppsV1Api(api).read_namespaced_deployment(
            canary_name(target), namespace
        )
    except ApiException as error:
        if error.status == 404:
            return CanaryView(present=False)
        raise
    if found.metadata.deletion_timestamp is not None:
        return CanaryView(present=False)
    if _owner_uid(found) is None:
        return CanaryView(present=True, owner_uid=None)
    replica_sets: Any = client.AppsV1Api(api).list_namespaced_replica_set(
        namespace, label_selector=f"{TRACK_LABEL}=canary"
    )
    current = [
        rs
        for rs in replica_sets.items
        if any(o.uid == found.metadata.uid for o in rs.metadata.owner_references or ())
        and (rs.spec.replicas or 0) > 0
    ]
    newest = max(current, key=lambda rs: rs.metadata.creation_timestamp, default=None)
    pod_hash = (newest.metadata.labels or {}).get("pod-template-hash") if newest else None
    ready = int((found.status and found.status.ready_replicas) or 0)
    unready = pod_hash is not None and ready < int(found.spec.replicas or 0)
    selector = f"{TRACK_LABEL}=canary,pod-template-hash={pod_hash}"
    template: dict[str, Any] = api.sanitize_for_serialization(found.spec.template)  # type: ignore[no-untyped-call]
    metadata: dict[str, Any] = api.sanitize_for_serialization(found.metadata)  # type: ignore[no-untyped-call]
    return CanaryView(
        owner_uid=_owner_uid(found),
        pod_template_hash=pod_hash,
        problems=pods_not_ready(api, namespace, selector) if unready else (),
        present=True,
        # What its pods really run (a hand edit changes this, not the annotation).
        template_hash=canary_template_hash(template),
        replicas=int(found.spec.replicas or 0),
        ready_replicas=int((found.status and found.status.ready_replicas) or 0),
        scaled_by=replicas_set_by(metadata, FIELD_MANAGER),
    )


PHASE_ANNOTATION = f"{GROUP}/rollout-phase"
GUARDED_BY_ANNOTATION = f"{GROUP}/guarded-by"


class DeploymentWorkload:
    """The rollout loop's view of Deployments: read the target and its canary, apply actions."""

    def __init__(self, api: client.ApiClient, events: Any) -> None:
        self._api = api
        self._events = events

    def read_target(self, namespace: str, name: str) -> TargetView:
        return read_target(self._api, namespace, name)

    def read_canary(self, namespace: str, target: str) -> CanaryView:
        return read_canary(self._api, namespace, target)

    def apply(self, owner: ObjectRef, target: TargetView, actions: tuple[Action, ...]) -> None:
        TargetActions(self._api, self._events, owner).apply(target, actions)

    def record(self, owner: ObjectRef, reason: str, message: str, warning: bool = False) -> None:
        self._events.record(owner, reason, message, warning=warning)

    def mark(self, target: TargetView, guard: tuple[str, str] | None) -> None:
        """Say on the target which ChangeRollout guards it and in which phase, for tools that see
        only Deployments (Argo CD's health check: a paused Deployment alone cannot tell a canary
        from a rollback) and for the admission policy that lets only slokeeper resume a guarded
        Deployment. ``None`` removes the mark (the ChangeRollout is gone)."""
        rollout, phase = guard or (None, None)
        marks = {GUARDED_BY_ANNOTATION: rollout, PHASE_ANNOTATION: phase}
        annotations = target.body["metadata"].get("annotations") or {}
        if all(annotations.get(key) == value for key, value in marks.items()):
            return
        client.AppsV1Api(self._api).patch_namespaced_deployment(
            target.name,
            target.namespace,
            {"metadata": {"annotations": marks}},
            field_manager=FIELD_MANAGER,
        )
