"""What pods that are not Ready say, in their own words: why a container waits
(ErrImageNeverPull, CrashLoopBackOff …), how it last ended, or why the scheduler found no node.
The rollout quotes it when a canary or a promotion misses its progress deadline."""

from __future__ import annotations

from typing import Any

from kubernetes import client


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


def pods_not_ready(api: client.ApiClient, namespace: str, selector: str) -> tuple[str, ...]:
    """What the pods matching ``selector`` that are not Ready say, at most five, one line each."""
    pods: Any = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector)
    found = (_pod_problem(pod) for pod in pods.items)
    return tuple(sorted(problem for problem in found if problem))[:5]
