"""The rollout story on the real node, with real traffic: what the tests, the rollback benchmark
and ``slokeeper demo --real-node`` apply.

A ``checkout`` Deployment of the demo application (4 pods, readiness on ``/readyz``, scraped by
the node's Prometheus through its ``prometheus.io`` annotations, a short but real grace period), a
Service in front of it, a load generator sending real HTTP requests through the Service's
ClusterIP (the node has no cluster DNS), an availability SLO and a latency SLO on the metrics the
pods serve, and a ChangeRollout guarding the Deployment with steps and analyses against both SLOs.

A version is a pod template environment (``VERSION`` and the demo app's ``PROFILE``): shipping
one is ``kubectl set env``, as a GitOps commit changing the template would be. Everything here is
plain manifests but ``set_up``, which applies them in order and waits for the operator to adopt
the running template, and ``environment``, which brings up what the story runs on (for a
benchmark or the demo; the tests have a fixture for each part).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slokeeper.api.base import API_VERSION
from slokeeper.api.crd import RESOURCE_KINDS, custom_resource_definition
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.processes import StartError, wait_until
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.realnode.images import RealNodeImages, ensure_images, import_images
from slokeeper.localcluster.realnode.monitoring import node_prometheus
from slokeeper.localcluster.realnode.node import RealNodeCluster
from slokeeper.localcluster.rule_sync import RuleSync
from slokeeper.localcluster.toolchain import Toolchain

TARGET = "checkout"
LOAD = "load"  # not checkout-…: the SLOs' pod regex must never count the load generator
AVAILABILITY_SLO = "checkout-availability"
LATENCY_SLO = "checkout-latency"
PORT = 8080
STABLE_VERSION = "1.1"
# Seconds the kubelet waits after SIGTERM; the demo app stops at once on SIGTERM, so a pod's
# termination is graceful and short, yet the grace period is a real one.
GRACE_SECONDS = 10
# A pod being removed (a canary rolled back, stable pods replaced by a promotion) first sleeps
# this long in a preStop hook, while kube-proxy takes it out of the Service, and only then gets
# SIGTERM: without it the load generator saw about 8 of 2,400 requests refused around a
# rollback and a promotion; with 2 s, none on a quiet machine but 5 of 3,665 on a loaded one,
# where kube-proxy was slower to follow.
DRAIN_SECONDS = 5
# The latency SLO: 99 % of requests within 500 ms (a bucket boundary of the demo app). A healthy
# version exceeds it on 0.1 % of requests (burn rate 0.1), a slow one (5x) on 10 % (burn rate 10).
LATENCY_THRESHOLD_SECONDS = 0.5
LATENCY_TARGET = 99.0
AVAILABILITY_TARGET = 99.9


@dataclass(frozen=True)
class Version:
    """A version of the checkout service: its name and how the demo app behaves in it."""

    name: str
    profile: str = "healthy"

    def env(self) -> list[dict[str, str]]:
        return [{"name": "VERSION", "value": self.name}, {"name": "PROFILE", "value": self.profile}]


STABLE = Version(STABLE_VERSION)
GOOD = Version("1.2")
BAD = Version("1.3-bad", "bad")  # 20 % of requests answered 500
SLOW = Version("1.4-slow", "slow")  # five times slower, no more errors


@dataclass(frozen=True)
class Analysis:
    """The ChangeRollout's steps and analysis settings (the story's defaults are quick ones)."""

    weights: Sequence[int] = (25, 50)
    pause: str = "10s"
    interval: str = "5s"
    window: str = "30s"
    min_request_count: int = 50
    failure_limit: int = 1
    max_burn_rate: float = 2.0


def _pod_template(image: str, version: Version) -> dict[str, Any]:
    return {
        "metadata": {
            "labels": {"app": TARGET},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT)},
        },
        "spec": {
            "terminationGracePeriodSeconds": GRACE_SECONDS,
            "containers": [
                {
                    "name": TARGET,
                    "image": image,
                    "imagePullPolicy": "Never",
                    "env": version.env(),
                    "ports": [{"name": "http", "containerPort": PORT}],
                    "readinessProbe": {
                        "httpGet": {"path": "/readyz", "port": "http"},
                        "periodSeconds": 1,
                    },
                    "lifecycle": {"preStop": {"sleep": {"seconds": DRAIN_SECONDS}}},
                    "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                }
            ],
        },
    }


def target_deployment(
    namespace: str, image: str, replicas: int = 4, version: Version = STABLE
) -> dict[str, Any]:
    """The Deployment the ChangeRollout guards: ``replicas`` pods of the demo app."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": TARGET, "namespace": namespace, "labels": {"app": TARGET}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": TARGET}},
            "template": _pod_template(image, version),
        },
    }


def service(namespace: str) -> dict[str, Any]:
    """The Service in front of every checkout pod, stable and canary alike (port 80)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": TARGET, "namespace": namespace},
        "spec": {"selector": {"app": TARGET}, "ports": [{"port": 80, "targetPort": "http"}]},
    }


def load_deployment(namespace: str, image: str, service_ip: str, rate: float) -> dict[str, Any]:
    """One pod sending ``rate`` GETs a second to the Service's ClusterIP (no DNS on the node)."""
    command = ["python3", "-m", "slokeeper.demoapp.load", "--url", f"http://{service_ip}/"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": LOAD, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": LOAD}},
            "template": {
                "metadata": {"labels": {"app": LOAD}},
                "spec": {
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "containers": [
                        {
                            "name": LOAD,
                            "image": image,
                            "imagePullPolicy": "Never",
                            "command": [*command, "--rate", f"{rate:g}"],
                        }
                    ],
                },
            },
        },
    }


def _selector(namespace: str) -> str:
    return f'namespace="{namespace}",pod=~"{TARGET}-.*"'


def availability_slo(namespace: str) -> dict[str, Any]:
    """99.9 % of checkout requests are not answered 5xx, over a rolling 28 days."""
    selector = _selector(namespace)
    window = "[{{.window}}]"
    return _slo(
        namespace,
        AVAILABILITY_SLO,
        "Checkout requests that do not fail with a 5xx.",
        AVAILABILITY_TARGET,
        {
            "ratio": {
                "errors": f'sum(rate(http_requests_total{{{selector},code=~"5.."}}{window}))',
                "total": f"sum(rate(http_requests_total{{{selector}}}{window}))",
            }
        },
    )


def latency_slo(namespace: str) -> dict[str, Any]:
    """99 % of checkout requests are served within 500 ms, from the demo app's histogram."""
    return _slo(
        namespace,
        LATENCY_SLO,
        f"Checkout requests served within {LATENCY_THRESHOLD_SECONDS * 1000:g} ms.",
        LATENCY_TARGET,
        {
            "latency": {
                "metric": "http_request_duration_seconds",
                "selector": _selector(namespace),
                "threshold": LATENCY_THRESHOLD_SECONDS,
            }
        },
    )


def _slo(
    namespace: str, name: str, description: str, target: float, indicator: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "service": TARGET,
            "description": description,
            "target": target,
            "window": {"rolling": "28d"},
            "indicator": indicator,
        },
    }


def change_rollout(namespace: str, analysis: Analysis = Analysis()) -> dict[str, Any]:
    """The ChangeRollout guarding checkout: each step's canary held to both SLOs."""
    slos = [
        {"name": name, "maxBurnRate": analysis.max_burn_rate}
        for name in (AVAILABILITY_SLO, LATENCY_SLO)
    ]
    return {
        "apiVersion": API_VERSION,
        "kind": "ChangeRollout",
        "metadata": {"name": TARGET, "namespace": namespace},
        "spec": {
            "targetRef": {"name": TARGET},
            "steps": [{"weight": weight, "pause": analysis.pause} for weight in analysis.weights],
            "analysis": {
                "interval": analysis.interval,
                "window": analysis.window,
                "slos": slos,
                "minRequestCount": analysis.min_request_count,
                "failureLimit": analysis.failure_limit,
            },
            "progressDeadline": "60s",
        },
    }


def ship(namespace: str, version: Version) -> tuple[str, ...]:
    """kubectl's arguments that change the target's pod template to ``version``."""
    env = [f"{variable['name']}={variable['value']}" for variable in version.env()]
    return ("set", "env", f"deployment/{TARGET}", "-n", namespace, *env)


def apply(node: RealNodeCluster, objects: Iterable[dict[str, Any]]) -> None:
    """``kubectl apply`` of ``objects`` on the node (through a file: its kubectl has no stdin)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="story-") as manifest:
        manifest.write(yaml.safe_dump_all(list(objects)))
        manifest.flush()
        node.kubectl("apply", "-f", manifest.name)


def rollout_status(node: RealNodeCluster, namespace: str) -> dict[str, Any]:
    """The ChangeRollout's status ({} before the operator wrote one)."""
    found = node.kubectl("get", "crollout", TARGET, "-n", namespace, "-o", "json")
    status: dict[str, Any] = json.loads(found.stdout).get("status") or {}
    return status


def load_counts(node: RealNodeCluster, namespace: str) -> tuple[str, dict[str, int]]:
    """The load generator's last report (a line every 10 s) and its answers by status code
    (``error``: no answer, e.g. a refused connection or a timeout)."""
    logs = node.kubectl("logs", f"deployment/{LOAD}", "-n", namespace, "--tail=1", check=False)
    line = logs.stdout.strip()
    counts = {}
    if line.endswith(")") and "(" in line:
        for pair in line[line.rindex("(") + 1 : -1].split(", "):
            code, _, count = pair.partition(": ")
            if count.isdigit():
                counts[code] = int(count)
    return line, counts


def _rolled_out(node: RealNodeCluster, namespace: str, name: str) -> str | None:
    done = node.kubectl(
        "rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=1s", check=False
    )
    return None if done.returncode == 0 else (done.stdout + done.stderr).strip()[-200:]


def set_up(
    node: RealNodeCluster,
    namespace: str,
    image: str,
    *,
    rate: float = 40.0,
    analysis: Analysis = Analysis(),
    timeout: float = 120.0,
) -> str:
    """The whole story in ``namespace``: checkout Ready behind its Service, the load running,
    both SLOs, and the ChangeRollout once it has adopted the stable template. Returns the
    Service's ClusterIP. The operator must be watching ``namespace``."""
    if node.kubectl("get", "namespace", namespace, check=False).returncode != 0:
        node.kubectl("create", "namespace", namespace)
    apply(node, (target_deployment(namespace, image), service(namespace)))
    wait_until(
        f"deployment {TARGET} in {namespace}",
        lambda: _rolled_out(node, namespace, TARGET),
        timeout,
        interval=0.5,
    )
    service_ip: str = node.kubectl(
        "get", "service", TARGET, "-n", namespace, "-o", "jsonpath={.spec.clusterIP}"
    ).stdout.strip()
    # kube-proxy programs the Service a moment after its endpoints are Ready: until then the
    # load generator's first requests would be refused.
    probe = f"import urllib.request as u; u.urlopen('http://{service_ip}/readyz', timeout=2)"
    wait_until(
        f"Service {service_ip} in {namespace} to answer",
        lambda: None if node.run_inside("python3", "-c", probe).returncode == 0 else "refused",
        timeout,
        interval=0.5,
    )
    apply(
        node,
        (
            load_deployment(namespace, image, service_ip, rate),
            availability_slo(namespace),
            latency_slo(namespace),
            change_rollout(namespace, analysis),
        ),
    )
    wait_until(
        f"deployment {LOAD} in {namespace}",
        lambda: _rolled_out(node, namespace, LOAD),
        timeout,
        interval=0.5,
    )
    wait_until(
        f"the ChangeRollout in {namespace} to adopt {STABLE_VERSION}",
        lambda: None if "stable" in rollout_status(node, namespace) else "not adopted yet",
        timeout,
        interval=0.5,
    )
    return service_ip


@dataclass(frozen=True)
class Environment:
    """A running real node with the images imported, its Prometheus, and the CRDs served."""

    node: RealNodeCluster
    images: RealNodeImages
    prometheus: PrometheusServer


@contextmanager
def environment(toolchain: Toolchain, workdir: Path) -> Iterator[Environment]:
    """Start the real node (root needed), import the images (built first if missing), start its
    Prometheus (loading the rules the operator writes into ConfigMaps, as a sidecar would) and
    apply the CRDs; everything stops when the block ends."""
    with RealNodeCluster(toolchain, workdir / "node") as node:
        ctr = shutil.which("ctr")
        if ctr is None:  # the node installs containerd when it starts: checked afterwards
            raise StartError("ctr (Debian package containerd) is missing")
        images = ensure_images()
        import_images(
            Path(ctr), node.dirs.containerd_socket, [i.archive for i in images.node_images]
        )
        with node_prometheus(node, toolchain.prometheus, workdir / "prometheus") as prometheus:
            apply(node, (custom_resource_definition(kind) for kind in RESOURCE_KINDS))
            node.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
            rules = RuleSync(api_client(str(node.kubeconfig)), prometheus).start()
            try:
                yield Environment(node, images, prometheus)
            finally:
                rules.stop()
