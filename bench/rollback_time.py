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
"""

from __future__ import annotations

import json
import statistics
import sys
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
from slokeeper.localcluster.stack import LocalStack
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


def canary_ready(apps: client.AppsV1Api) -> int | None:
    """Ready pods of the canary Deployment; None once it is gone."""
    try:
        status = apps.read_namespaced_deployment_status("checkout-canary", NAMESPACE).status
    except client.exceptions.ApiException:
        return None
    return int(status.ready_replicas or 0)


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
    change = done["history"][0]
    timeline = ", ".join(
        f"+{(datetime.fromisoformat(a['time']) - ready_wall).total_seconds():.1f}s {a['outcome']}"
        for a in change["analyses"]
    )
    print(
        f"  {version}: rolled back {seconds:.1f}s after its pod was Ready ({change['reason']}); "
        f"analyses {timeline}",
        flush=True,
    )
    cluster.kubectl(
        "set", "image", "deployment/checkout", "checkout=shop/checkout:1.1", "-n", NAMESPACE
    )
    wait_for("the revert to stable", lambda: rollout_status(cluster).get("phase") == "Idle")
    return seconds


def main(runs: int) -> None:
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
    for failure_limit, seconds in results.items():
        print(
            f"failureLimit {failure_limit}: median {statistics.median(seconds):.1f}s over "
            f"{runs} runs (min {min(seconds):.1f}s, max {max(seconds):.1f}s; target < 20s)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
