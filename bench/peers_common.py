"""What bench/peers.py's parts share: one local stack (5 s scrape) with the traffic simulator, each
tool guarding the simulated 4-pod `checkout` in a namespace of its own, and how a change is
shipped to each tool and what it says about it."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from slokeeper.cli.crds import install_crds
from slokeeper.kube.connection import api_client
from slokeeper.localcluster import peer_manifests
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.peers import Peers, argo_rollouts_process, flagger_process
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.localcluster.stack import LocalStack
from slokeeper.simulator.server import TrafficSimulator

STABLE = peer_manifests.STABLE_IMAGE


@dataclass
class Bench:
    """The running stack, its simulator, and where logs go."""

    cluster: LocalCluster
    prometheus: PrometheusServer
    simulator: TrafficSimulator
    core: client.CoreV1Api
    peers: Peers
    workdir: Path


@contextmanager
def bench_stack(peers: Peers) -> Iterator[Bench]:
    """The local control plane and Prometheus (5 s scrape and evaluation), slokeeper's and the
    peers' CRDs, and the simulator (10 requests/s per Ready `app=checkout` pod, any namespace)."""
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalStack(Path(workdir), scrape_interval="5s") as stack,
    ):
        cluster, prometheus = stack.cluster, stack.prometheus
        if cluster is None or prometheus is None:
            raise SystemExit("the local stack did not start")
        install_crds(cluster)
        for crds in (peers.flagger_crds, peers.argo_rollouts_crds):
            cluster.kubectl("apply", "--server-side", "-f", str(crds))
        cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        api = api_client(str(cluster.kubeconfig))
        with TrafficSimulator(api, (), "app=checkout", requests_per_second=10) as simulator:
            prometheus.add_job(ScrapeJob("simulator", (simulator.address,)))
            yield Bench(cluster, prometheus, simulator, client.CoreV1Api(api), peers, Path(workdir))


@dataclass(frozen=True)
class Tool:
    """One tool set up one way: what it is called, what to apply, how to run its controller, how
    to ship an image, and what it says about the change in flight."""

    name: str
    kind: str  # the resource a user watches: rollout, canary or crollout
    objects: Callable[[str, str], list[Any]]  # (namespace, prometheus URL) -> manifests
    controller: Callable[[Bench, str], AbstractContextManager[Any]]
    ready_phase: str  # the phase that says "guarding the stable version, nothing in flight"

    def ship(self, bench: Bench, namespace: str, image: str) -> None:
        if self.kind == "rollout":
            patch = [
                {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}
            ]
            bench.cluster.kubectl(
                "patch", "rollout", peer_manifests.APP, "-n", namespace,
                "--type=json", "-p", json.dumps(patch),
            )  # fmt: skip
        else:
            bench.cluster.kubectl(
                "set", "image", f"deployment/{peer_manifests.APP}", f"checkout={image}",
                "-n", namespace,
            )  # fmt: skip

    def status(self, bench: Bench, namespace: str) -> dict[str, Any]:
        found = bench.cluster.kubectl(
            "get", self.kind, peer_manifests.APP, "-n", namespace, "-o", "json", check=False
        )
        if found.returncode != 0:
            return {}
        status: dict[str, Any] = json.loads(found.stdout).get("status", {})
        return status

    def says(self, bench: Bench, namespace: str) -> str:
        """The tool's own account of the change: phase and message, or its last events."""
        status = self.status(bench, namespace)
        if self.kind == "rollout":
            return f"{status.get('phase')}: {status.get('message', '')}"
        if self.kind == "crollout":
            return f"{status.get('phase')}: {status.get('message', '')}"
        events = bench.cluster.kubectl(
            "get", "events", "-n", namespace, "--field-selector", "involvedObject.kind=Canary",
            "--sort-by=.lastTimestamp", "-o", "jsonpath={range .items[*]}{.message}{'\\n'}{end}",
        ).stdout.splitlines()  # fmt: skip
        return f"{status.get('phase')}: " + " | ".join(events[-3:])


def argo_tool(name: str, settings: peer_manifests.ArgoSettings) -> Tool:
    return Tool(
        name,
        "rollout",
        lambda ns, url: peer_manifests.argo_rollouts(ns, url, settings),
        lambda bench, ns: argo_rollouts_process(
            bench.peers, bench.cluster.kubeconfig, ns, bench.workdir / f"{ns}.log"
        ),
        "Healthy",
    )


def flagger_tool(name: str, settings: peer_manifests.FlaggerSettings) -> Tool:
    return Tool(
        name,
        "canary",
        lambda ns, url: peer_manifests.flagger_canary(ns, url, settings),
        lambda bench, ns: flagger_process(
            bench.peers,
            bench.cluster.kubeconfig,
            bench.prometheus.url,
            ns,
            bench.workdir / f"{ns}.log",
        ),
        "Initialized",
    )


def pods(bench: Bench, namespace: str) -> list[tuple[str, str, bool]]:
    """(name, image, Ready) of every pod of the namespace; a pod being deleted is not Ready."""
    listed: list[Any] = bench.core.list_namespaced_pod(namespace).items
    return [
        (
            str(p.metadata.name),
            str(p.spec.containers[0].image),
            p.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []),
        )
        for p in listed
    ]


def wait_for(what: str, check: Callable[[], Any], timeout: float, seen: Callable[[], str]) -> Any:
    """Poll every 0.1 s; on timeout, exit saying what was last seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen()}")


@contextmanager
def guarded(bench: Bench, tool: Tool, namespace: str) -> Iterator[None]:
    """The tool's controller running for a fresh namespace, its manifests applied and the stable
    version settled (the tool's ready phase)."""
    bench.cluster.kubectl("create", "namespace", namespace)
    with tool.controller(bench, namespace):
        manifests = tool.objects(namespace, bench.prometheus.url)
        bench.cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(manifests))
        wait_for(
            f"{tool.name} to settle on the stable version",
            lambda: tool.status(bench, namespace).get("phase") == tool.ready_phase,
            180,
            lambda: tool.says(bench, namespace),
        )
        yield
