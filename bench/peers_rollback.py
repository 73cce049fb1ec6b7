"""bench/peers.py part 1: rollback time of a version failing 20 % of its requests, for each tool,
measured the same way: from the first failing pod Ready to no failing pod left (gone from the API)
and 4 Ready pods of the stable version, polled every 0.1 s."""

from __future__ import annotations

import statistics
import time
from contextlib import AbstractContextManager
from typing import Any

from peers_common import STABLE, Bench, Tool, argo_tool, flagger_tool, guarded, pods, wait_for
from rollback_time import resources as slokeeper_resources

from slokeeper.localcluster import peer_manifests
from slokeeper.localcluster.operator_process import operator_process

WAIT = 600.0  # Flagger at its defaults takes minutes


def _in_namespace(value: Any, namespace: str) -> Any:
    """rollback_time.resources() are written for namespace `shop`: move them to ``namespace``."""
    if isinstance(value, dict):
        return {key: _in_namespace(item, namespace) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_namespace(item, namespace) for item in value]
    if value == "shop":
        return namespace
    if isinstance(value, str):
        return value.replace('namespace="shop"', f'namespace="{namespace}"')
    return value


def _slokeeper_objects(failure_limit: int) -> Any:
    def objects(namespace: str, _prometheus_url: str) -> list[Any]:
        deployment = peer_manifests.flagger_canary(namespace, "", peer_manifests.FlaggerSettings())[
            0
        ]
        return [deployment, *_in_namespace(slokeeper_resources(failure_limit), namespace)]

    return objects


def _slokeeper_controller(bench: Bench, namespace: str) -> AbstractContextManager[Any]:
    log = bench.workdir / f"{namespace}.log"
    return operator_process(bench.cluster.kubeconfig, bench.prometheus.url, log, interval="10s")


def slokeeper_tool(failure_limit: int) -> Tool:
    return Tool(
        f"slokeeper, failureLimit {failure_limit}",
        "crollout",
        _slokeeper_objects(failure_limit),
        _slokeeper_controller,
        "Idle",
    )


TOOLS = {
    "slokeeper-1": slokeeper_tool(1),
    "slokeeper-2": slokeeper_tool(2),
    "argo-10s": argo_tool(
        "Argo Rollouts, interval 10s, failureLimit 0 (rolls back on the first failure, as our 1)",
        peer_manifests.ArgoSettings(interval="10s", failure_limit=0),
    ),
    "argo-10s-limit1": argo_tool(
        "Argo Rollouts, interval 10s, failureLimit 1 (rolls back on the second failure, as our 2)",
        peer_manifests.ArgoSettings(interval="10s", failure_limit=1),
    ),
    "argo-defaults": argo_tool(
        "Argo Rollouts, metric defaults (no interval: one measurement; failureLimit 0; "
        "consecutiveErrorLimit 4, errors retried every 10s)",
        peer_manifests.ArgoSettings(interval=None, failure_limit=0),
    ),
    "flagger-10s": flagger_tool(
        "Flagger, interval 10s, threshold 1, metric interval 30s (our window)",
        peer_manifests.FlaggerSettings(interval="10s", threshold=1, metric_interval="30s"),
    ),
    "flagger-defaults": flagger_tool(
        "Flagger, its defaults (interval 1m, threshold 1, metric interval 1m: the code's "
        "defaults, which its CRD and a custom MetricTemplate make a user write)",
        peer_manifests.FlaggerSettings(interval="1m", threshold=1, metric_interval="1m"),
    ),
}


def one_rollback(bench: Bench, tool: Tool, namespace: str, image: str) -> float:
    def back_on_stable() -> bool:
        now = pods(bench, namespace)
        stable = sum(1 for _, i, ready in now if i == STABLE and ready)
        return stable >= 4 and not any(i == image for _, i, _r in now)

    tool.ship(bench, namespace, image)

    def seen() -> str:
        return f"pods {pods(bench, namespace)}; {tool.says(bench, namespace)}"

    wait_for(
        f"a Ready pod of {image}",
        lambda: any(i == image and ready for _, i, ready in pods(bench, namespace)),
        WAIT,
        seen,
    )
    ready_at = time.monotonic()
    failing = sum(1 for _, i, _r in pods(bench, namespace) if i == image)
    wait_for(f"the pods of {image} gone and 4 stable pods Ready", back_on_stable, WAIT, seen)
    seconds = time.monotonic() - ready_at
    print(
        f"  {image}: rolled back {seconds:.1f}s after its first pod was Ready "
        f"({failing} failing pods); {tool.says(bench, namespace)}",
        flush=True,
    )
    if tool.kind == "crollout":  # as rollback_time.py: each run from a clean stable state
        tool.ship(bench, namespace, STABLE)
        wait_for(
            "the revert to stable",
            lambda: tool.status(bench, namespace).get("phase") == "Idle",
            120,
            seen,
        )
    return seconds


def rollback_times(
    bench: Bench, keys: list[str], runs: int, runs_for: dict[str, int]
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for number, key in enumerate(keys, start=1):
        tool, tool_runs = TOOLS[key], runs_for.get(key, runs)
        print(f"{tool.name}:", flush=True)
        namespace = f"p1-{key}"
        with guarded(bench, tool, namespace):
            results[key] = [
                one_rollback(bench, tool, namespace, f"shop/checkout:1.{number}.{run}-bad")
                for run in range(1, tool_runs + 1)
            ]
    return results


def print_medians(results: dict[str, list[float]]) -> None:
    medians = {key: statistics.median(seconds) for key, seconds in results.items()}
    for key, seconds in results.items():
        ratios = ", ".join(
            f"{medians[key] / medians[ours]:.1f}x ours at failureLimit {ours[-1]}"
            for ours in ("slokeeper-1", "slokeeper-2")
            if ours in medians and not key.startswith("slokeeper")
        )
        print(
            f"{TOOLS[key].name}: median {medians[key]:.1f}s over {len(seconds)} runs "
            f"(min {min(seconds):.1f}s, max {max(seconds):.1f}s){'; ' + ratios if ratios else ''}",
            flush=True,
        )
