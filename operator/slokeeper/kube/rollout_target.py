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
    TEMPLATE_ANNOTATION,
    TRACK_LABEL,
    canary_deployment,
    canary_name,
    template_hash,
)
from slokeeper.rollout.states import (
    Action,
    DeleteCanary,
    EnsureCanary,
    Event,
    PauseTarget,
    ResumeTarget,
)
from slokeeper.rollout.workload import CanaryView, TargetMissingError, TargetView


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
    available = status.get("availableReplicas", 0) >= replicas
    return TargetView(
        body,
        template_hash(spec["template"]),
        replicas,
        bool(spec.get("paused")),
        rolled_out,
        available,
    )


class TargetActions:
    """Applies state-machine actions to the target Deployment and its canary."""

    def __init__(self, api: client.ApiClient, events: Any, owner: ObjectRef) -> None:
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
                        name, namespace, {"spec": {"paused": paused}}
                    )
            elif isinstance(action, EnsureCanary):
                self._ensure_canary(target, action)
            elif isinstance(action, DeleteCanary):
                try:
                    self._apps.delete_namespaced_deployment(canary_name(name), namespace)
                except ApiException as error:
                    if error.status != 404:
                        raise
            elif isinstance(action, Event):
                self._events.record(
                    self._owner, action.reason, action.message, warning=action.warning
                )

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
            self._apps.create_namespaced_deployment(namespace, wanted)
            return
        annotations = current.metadata.annotations or {}
        if (
            annotations.get(TEMPLATE_ANNOTATION) == action.template
            and current.spec.replicas == action.replicas
        ):
            return
        wanted["metadata"]["resourceVersion"] = current.metadata.resource_version
        self._apps.replace_namespaced_deployment(name, namespace, wanted)


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
    return CanaryView(
        pod_template_hash=pod_hash,
        problems=_pod_problems(api, namespace, pod_hash)
        if ready < int(found.spec.replicas or 0)
        else (),
        present=True,
        template_hash=(found.metadata.annotations or {}).get(TEMPLATE_ANNOTATION),
        replicas=int(found.spec.replicas or 0),
        ready_replicas=int((found.status and found.status.ready_replicas) or 0),
    )


def _container_problem(status: Any) -> str | None:
    """What a container that is not Ready says: why it waits (ErrImageNeverPull,
    CrashLoopBackOff …), how it last ended, or that its readiness probe fails."""
    if status.ready:
        return None
    said = []
    waiting = status.state and status.state.waiting
    if waiting is not None and waiting.reason:
        said.append(waiting.reason + (f": {waiting.message}" if waiting.message else ""))
    ended = (status.state and status.state.terminated) or (
        status.last_state and status.last_state.terminated
    )
    if ended is not None:
        said.append(
            f"restarted {status.restart_count} times, last exit code {ended.exit_code}"
            + (f" ({ended.reason})" if ended.reason else "")
        )
    if not said and status.state and status.state.running:
        said.append("running, but its readiness probe fails")
    return f"container {status.name} " + "; ".join(said) if said else None


def _pod_problem(pod: Any) -> str | None:
    """Why one pod is not Ready, in its own words: its containers', or the scheduler's."""
    name = pod.metadata.name
    for status in (pod.status and pod.status.container_statuses) or ():
        problem = _container_problem(status)
        if problem is not None:
            return f"pod {name} {problem}"
    for condition in (pod.status and pod.status.conditions) or ():
        if condition.type == "PodScheduled" and condition.status == "False":
            return f"pod {name} {condition.reason}: {condition.message}"
    return None


def _pod_problems(api: client.ApiClient, namespace: str, pod_hash: str | None) -> tuple[str, ...]:
    """What the canary's current pods that are not Ready say (only read while some are not)."""
    if pod_hash is None:
        return ()
    pods: Any = client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector=f"{TRACK_LABEL}=canary,pod-template-hash={pod_hash}"
    )
    found = (_pod_problem(pod) for pod in pods.items)
    return tuple(sorted(problem for problem in found if problem))[:5]


PHASE_ANNOTATION = f"{GROUP}/rollout-phase"


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

    def mark(self, target: TargetView, phase: str | None) -> None:
        """Say on the target which phase its rollout is in, for tools that see only Deployments
        (Argo CD's health check): a paused Deployment alone cannot tell a canary from a rollback.
        ``None`` removes the mark (the ChangeRollout is gone)."""
        meta = target.body["metadata"]
        if (meta.get("annotations") or {}).get(PHASE_ANNOTATION) == phase:
            return
        client.AppsV1Api(self._api).patch_namespaced_deployment(
            meta["name"],
            meta["namespace"],
            {"metadata": {"annotations": {PHASE_ANNOTATION: phase}}},
        )
