"""Benchmark: how fast a failing canary is rolled back.

Measures the time from the bad canary's pods becoming Ready to the rollback being complete (the
canary Deployment gone, none of its pods Ready, the ChangeRollout RolledBack), with a 5 s scrape
interval and a 10 s analysis interval. Target (issue 7): median under 20 s; Flagger's best
possible is 30-40 s, its defaults about 3 minutes.

What it does: starts the local control plane and Prometheus (5 s scrape), the traffic simulator
(10 requests/s per pod) and `slokeeper run` as its own process; guards a 4-pod Deployment with a
ChangeRollout (analysis every 10 s over the last 30 s, max burn rate 2 on a 99.9 % SLO, a verdict
from 50 canary requests) and, for
each failure limit, ships RUNS failing versions (20 % errors), each from a clean stable state.
Run: .venv/bin/python bench/rollback_time.py [RUNS]

With --real-node (root needed) the same measure runs on the real node with real traffic
(slokeeper.localcluster.realnode.story): a 4-pod Deployment of the demo application behind a
Service, a load generator sending 50 requests/s through the Service's ClusterIP (so a canary pod
beside four stable ones gets about 10/s, as the simulator gives each pod), Prometheus scraping the
pods every 5 s, the same ChangeRollout held to the availability SLO and a latency SLO. Rollback
complete there also means the canary's pods are gone: their graceful termination (a 2 s preStop
drain while kube-proxy takes them out of the Service, then SIGTERM) has ended.
Run: sudo .venv/bin/python bench/rollback_time.py --real-node [RUNS]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client

from slokeeper.cli.crds import install_crds
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.prometheus import ScrapeJob
from slokeeper.localcluster.realnode import story
from slokeeper.localcluster.stack import LocalStack
from slokeeper.localcluster.toolchain import ensure_toolchain
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.simulator.server import TrafficSimulator

NAMESPACE = "shop"
# One canary pod at 10 requests/s: 50 requests are 5 s of its traffic (the default, 100, is 10 s).
MIN_REQUEST_COUNT = 50
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = check()
        if seen:
            return seen
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def resources(failure_limit: int) -> list[dict[str, Any]]:
    selector = f'namespace="{NAMESPACE}"'
    slo = {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "checkout-availability", "namespace": NAMESPACE},
        "spec": {
            "service": "checkout",
            "target": 99.9,
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{{selector},code=~"5.."}}'
                    "[{{.window}}]))",
                    "total": f"sum(rate(http_requests_total{{{selector}}}[{{{{.window}}}}]))",
                }
            },
        },
    }
    rollout = {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ChangeRollout",
        "metadata": {"name": "checkout", "namespace": NAMESPACE},
        "spec": {
            "targetRef": {"name": "checkout"},
            "analysis": {
                "interval": "10s",
                "window": "30s",
                "slos": [{"name": "checkout-availability", "maxBurnRate": 2}],
                "minRequestCount": MIN_REQUEST_COUNT,
                "failureLimit": failure_limit,
            },
        },
    }
    return [slo, rollout]


def rollout_status(cluster: LocalCluster) -> dict[str, Any]:
    found = cluster.kubectl("get", "crollout", "checkout", "-n", NAMESPACE, "-o", "json")
    status: dict[str, Any] = json.loads(found.stdout).get("status", {})
    return status


def canary_ready(apps: client.AppsV1Api, name: str = "checkout-canary") -> int | None:
    """Ready pods of the canary Deployment; None once it is gone."""
    try:
        status = apps.read_namespaced_deployment_status(name, NAMESPACE).status
    except client.exceptions.ApiException:
        return None
    return int(status.ready_replicas or 0)


def print_run(
    version: str, seconds: float, change: dict[str, Any], ready_wall: datetime, extra: str = ""
) -> None:
    timeline = ", ".join(
        f"+{(datetime.fromisoformat(a['time']) - ready_wall).total_seconds():.1f}s {a['outcome']}"
        for a in change["analyses"]
    )
    print(
        f"  {version}: rolled back {seconds:.1f}s after its pod was Ready ({change['reason']}"
        f"{'; ' + extra if extra else ''}); analyses {timeline}",
        flush=True,
    )


def one_rollback(cluster: LocalCluster, apps: client.AppsV1Api, version: str) -> float:
    changes = len(rollout_status(cluster).get("history", []))
    cluster.kubectl(
        "set", "image", "deployment/checkout", f"checkout=shop/checkout:{version}", "-n", NAMESPACE
    )
    wait_for("the bad canary's pod to be Ready", lambda: (canary_ready(apps) or 0) >= 1)
    ready_at, ready_wall = time.monotonic(), datetime.now(UTC)
    wait_for("the canary to be removed", lambda: canary_ready(apps) is None)
    done = wait_for(
        "the ChangeRollout to record the rollback",
        lambda: (
            (s := rollout_status(cluster)).get("phase") == "RolledBack"
            and len(s.get("history", [])) > changes
            and s
        ),
    )
    seconds = time.monotonic() - ready_at
    print_run(version, seconds, done["history"][0], ready_wall)
    cluster.kubectl(
        "set", "image", "deployment/checkout", "checkout=shop/checkout:1.1", "-n", NAMESPACE
    )
    wait_for("the revert to stable", lambda: rollout_status(cluster).get("phase") == "Idle")
    return seconds


def kwok_runs(runs: int) -> dict[int, list[float]]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalStack(Path(workdir), scrape_interval="5s") as stack,
    ):
        cluster, prometheus = stack.cluster, stack.prometheus
        if cluster is None or prometheus is None:
            raise SystemExit("the local stack did not start")
        install_crds(cluster)
        cluster.kubectl("create", "namespace", NAMESPACE)
        cluster.kubectl(
            "create", "deployment", "checkout", "-n", NAMESPACE,
            "--image=shop/checkout:1.1", "--replicas=4",
        )  # fmt: skip
        api = api_client(str(cluster.kubeconfig))
        apps = client.AppsV1Api(api)
        log_path = Path(workdir) / "operator.log"
        with (
            TrafficSimulator(api, (NAMESPACE,), "app=checkout") as simulator,
            operator_process(cluster.kubeconfig, prometheus.url, log_path, interval="10s"),
        ):
            prometheus.add_job(ScrapeJob("simulator", (simulator.address,)))
            results = {}
            for failure_limit in (1, 2):
                print(f"failureLimit {failure_limit}:", flush=True)
                cluster.kubectl(
                    "apply", "-f", "-", input_text=yaml.safe_dump_all(resources(failure_limit))
                )
                wait_for("adoption", lambda: "stable" in rollout_status(cluster))
                results[failure_limit] = [
                    one_rollback(cluster, apps, f"1.{failure_limit}.{run}-bad")
                    for run in range(1, runs + 1)
                ]
    return results


# The real node: the demo application's pods and a load generator (slokeeper.localcluster.realnode).
REAL_RATE = 50.0  # requests/s through the Service: about 10/s for one canary pod beside four


def real_analysis(failure_limit: int) -> story.Analysis:
    """The KWOK run's settings: default steps (5 % first), analysis every 10 s over 30 s."""
    return story.Analysis(
        weights=(5, 25, 50),
        pause="5m",
        interval="10s",
        window="30s",
        min_request_count=MIN_REQUEST_COUNT,
        failure_limit=failure_limit,
    )


def real_canary(core: client.CoreV1Api, apps: client.AppsV1Api) -> tuple[int | None, int]:
    """(Ready pods of the canary Deployment, None once it is gone; canary pods that exist)."""
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="slokeeper.dev/track=canary")
    return canary_ready(apps, f"{story.TARGET}-canary"), len(pods.items)


def first_scrape(env: story.Environment, pod_hash: str, ready_wall: datetime) -> str:
    """When Prometheus first scraped the canary's pod, after it was Ready."""
    pods = f'namespace="{NAMESPACE}",pod=~"{story.TARGET}-canary-{pod_hash}-.*"'
    query = f"min(min_over_time(timestamp(up{{{pods}}})[3m:1s]))"
    samples = PrometheusClient(env.prometheus.url).query(query)
    if not samples:
        return "never scraped"
    return f"first scrape +{samples[0].value - ready_wall.timestamp():.1f}s"


def real_rollback(
    env: story.Environment, core: client.CoreV1Api, apps: client.AppsV1Api, name: str
) -> float:
    node = env.node
    changes = len(story.rollout_status(node, NAMESPACE).get("history", []))
    node.kubectl(*story.ship(NAMESPACE, story.Version(name, "bad")))
    wait_for("the bad canary's pod to be Ready", lambda: (real_canary(core, apps)[0] or 0) >= 1)
    ready_at, ready_wall = time.monotonic(), datetime.now(UTC)
    wait_for("the canary Deployment to be removed", lambda: real_canary(core, apps)[0] is None)
    removed = time.monotonic() - ready_at
    wait_for("the canary's pods to be gone", lambda: real_canary(core, apps) == (None, 0))
    done = wait_for(
        "the ChangeRollout to record the rollback",
        lambda: (
            (s := story.rollout_status(node, NAMESPACE)).get("phase") == "RolledBack"
            and len(s.get("history", [])) > changes
            and s
        ),
    )
    seconds = time.monotonic() - ready_at
    change = done["history"][0]
    scraped = first_scrape(env, change.get("canaryPodTemplateHash", ""), ready_wall)
    print_run(name, seconds, change, ready_wall, f"{scraped}, Deployment gone +{removed:.1f}s")
    node.kubectl(*story.ship(NAMESPACE, story.STABLE))
    wait_for(
        "the revert to stable", lambda: story.rollout_status(node, NAMESPACE).get("phase") == "Idle"
    )
    return seconds


def real_node_runs(runs: int) -> dict[int, list[float]]:
    if os.geteuid() != 0:
        raise SystemExit("rollback_time.py --real-node needs root (network namespace, containerd)")
    results = {}
    with (
        tempfile.TemporaryDirectory() as workdir,
        story.environment(ensure_toolchain(), Path(workdir)) as env,
        operator_process(
            env.node.kubeconfig, env.prometheus.url, Path(workdir) / "operator.log", interval="10s"
        ),
    ):
        image = env.images.demoapp.name
        story.set_up(env.node, NAMESPACE, image, rate=REAL_RATE, analysis=real_analysis(1))
        api = api_client(str(env.node.kubeconfig))
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        for failure_limit in (1, 2):
            print(f"failureLimit {failure_limit}:", flush=True)
            story.apply(env.node, [story.change_rollout(NAMESPACE, real_analysis(failure_limit))])
            results[failure_limit] = [
                real_rollback(env, core, apps, f"1.{failure_limit}.{run}-bad")
                for run in range(1, runs + 1)
            ]
        print(f"the load generator's last report: {story.load_counts(env.node, NAMESPACE)[0]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("runs", nargs="?", type=int, default=5, help="runs per failure limit")
    parser.add_argument(
        "--real-node", action="store_true", help="real pods and real traffic (root needed)"
    )
    arguments = parser.parse_args()
    results = (real_node_runs if arguments.real_node else kwok_runs)(arguments.runs)
    where = "real node" if arguments.real_node else "KWOK"
    for failure_limit, seconds in results.items():
        print(
            f"{where}, failureLimit {failure_limit}: median {statistics.median(seconds):.1f}s "
            f"over {arguments.runs} runs (min {min(seconds):.1f}s, max {max(seconds):.1f}s; "
            "target < 20s)"
        )


if __name__ == "__main__":
    main()
