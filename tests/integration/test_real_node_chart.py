"""User story: an SRE installs slokeeper with its Helm chart, from the image the project's
Dockerfile builds, on a real node. The kubelet enforces the Pod's hardening and the operator
works under it (an SLO evaluated, a change promoted on real traffic); a wedged operator is
restarted by its liveness probe; and `helm upgrade --wait` to a new image completes with one
replica and with two, the new Pod taking over the Lease while a change in flight carries on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from helm import CHART, helm
from polling import eventually
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.realnode import story
from slokeeper.localcluster.realnode.configs import NODE_IP
from slokeeper.localcluster.realnode.images import RealNodeImages
from slokeeper.localcluster.realnode.monitoring import PROMETHEUS_PORT
from slokeeper.localcluster.realnode.node import RealNodeCluster
from slokeeper.localcluster.toolchain import Toolchain

RELEASE = "slokeeper"
SYSTEM = "slokeeper-system"
WATCHED = "chart-shop"
SELECTOR = "app.kubernetes.io/name=slokeeper"


class Chart:
    """The release on the real node: helm with the node's kubeconfig, and its Pods."""

    def __init__(self, node: RealNodeCluster, toolchain: Toolchain, images: RealNodeImages):
        self.node = node
        self.toolchain = toolchain
        self.repository, _, self.tag = images.operator.name.rpartition(":")

    def install(self, *values: str) -> float:
        """``helm upgrade --install --wait`` with the test's values; seconds it took."""
        began = time.monotonic()
        helm(
            self.toolchain, "upgrade", "--install", RELEASE, str(CHART),
            "--namespace", SYSTEM, "--create-namespace", "--wait", "--timeout", "150s",
            "--set", f"image.repository={self.repository},image.pullPolicy=Never",
            "--set", f"prometheus.url=http://{NODE_IP}:{PROMETHEUS_PORT}",
            "--set", f"watchNamespaces={{{WATCHED}}}",
            "--set", "interval=5s,logFormat=text,terminationGracePeriodSeconds=5",
            *[arg for value in values for arg in ("--set", value)],
            kubeconfig=self.node.kubeconfig,
        )  # fmt: skip
        return time.monotonic() - began

    def pods(self) -> list[dict[str, Any]]:
        found = self.node.kubectl("get", "pods", "-n", SYSTEM, "-l", SELECTOR, "-o", "json")
        return list(json.loads(found.stdout)["items"])

    def running_pods(self) -> list[dict[str, Any]]:
        return [p for p in self.pods() if not p["metadata"].get("deletionTimestamp")]

    def leader(self) -> str:
        """The Pod named in the Lease (an identity is the Pod's hostname and a suffix)."""
        holder = self.node.kubectl(
            "get", "lease", "slokeeper", "-n", SYSTEM,
            "-o", "jsonpath={.spec.holderIdentity}", check=False,
        ).stdout.strip()  # fmt: skip
        return holder.rpartition("_")[0]

    def leader_gauge(self, pod: str) -> str:
        """``slokeeper_leader`` as the Pod serves it, read through the API server's proxy."""
        metrics = self.node.kubectl(
            "get", "--raw", f"/api/v1/namespaces/{SYSTEM}/pods/{pod}:8080/proxy/metrics",
            check=False,
        )  # fmt: skip
        for line in metrics.stdout.splitlines():
            if line.startswith("slokeeper_leader "):
                return line.split()[1]
        return f"no gauge ({metrics.stderr.strip()})"

    def exec(self, pod: str, code: str) -> str:
        return self.node.kubectl(
            "exec", "-n", SYSTEM, pod, "--", "python3", "-c", code
        ).stdout  # fmt: skip


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _image_tag(node: RealNodeCluster, source: str, tag: str) -> str:
    """Another tag of the operator image in the node's containerd: a new version to upgrade to."""
    target = f"{source.rpartition(':')[0]}:{tag}"
    node_ctr = [*node.ctr, "images", "tag", "--force", source, target]
    subprocess.run(node_ctr, check=True, capture_output=True, timeout=60)
    return tag


@pytest.fixture(scope="module")
def chart(
    real_node: RealNodeCluster,
    toolchain: Toolchain,
    real_node_images: RealNodeImages,
    real_node_prometheus: object,
) -> Iterator[Chart]:
    installed = Chart(real_node, toolchain, real_node_images)
    real_node.kubectl("create", "namespace", WATCHED)  # the chart makes its Role there
    installed.install(f"image.tag={installed.tag}")
    yield installed
    helm(toolchain, "uninstall", RELEASE, "-n", SYSTEM, kubeconfig=real_node.kubeconfig)
    real_node.kubectl("delete", "namespace", WATCHED, "--wait=false", check=False)


@pytest.fixture(scope="module")
def shop(chart: Chart, real_node_images: RealNodeImages) -> str:
    """The checkout story in the namespace the chart's operator watches."""
    analysis = story.Analysis(weights=(50,), pause="60s")  # an upgrade takes 8-15 s, 30+ s loaded
    story.set_up(chart.node, WATCHED, real_node_images.demoapp.name, analysis=analysis)
    return WATCHED


def test_the_operator_pod_runs_locked_down_and_works(chart: Chart, shop: str) -> None:
    (pod,) = chart.running_pods()
    name = pod["metadata"]["name"]
    # PID 1 of the container is the operator itself: what the kubelet gave it is what it runs with.
    seen = chart.exec(
        name,
        "import os\n"
        "status = dict(l.split(':', 1) for l in open('/proc/1/status').read().splitlines())\n"
        "print(open('/proc/1/cmdline').read().replace(chr(0), ' ').strip())\n"
        "for key in ('Uid', 'Gid', 'CapEff', 'CapBnd', 'NoNewPrivs', 'Seccomp'):\n"
        "    print(key, status[key].split()[0])\n"
        "try:\n"
        "    open('/usr/local/written-by-the-operator', 'w')\n"
        "except OSError as error:\n"
        "    print('write:', error.strerror)\n",
    )
    print(seen)
    lines = seen.splitlines()
    assert "slokeeper run" in lines[0], lines[0]
    assert lines[1:] == [
        "Uid 65532",
        "Gid 65532",
        "CapEff 0000000000000000",
        "CapBnd 0000000000000000",
        "NoNewPrivs 1",
        "Seccomp 2",  # 2: a filter, the runtime's default profile
        "write: Read-only file system",
    ]
    assert chart.leader() == name
    assert chart.leader_gauge(name) == "1.0"

    slo = eventually(
        lambda: json.loads(
            chart.node.kubectl(
                "get", "slo", story.AVAILABILITY_SLO, "-n", shop, "-o", "json"
            ).stdout
        ).get("status", {}),
        lambda status: status.get("errorBudgetRemainingRatio") is not None,
        "the SLO evaluated by the operator in its Pod, from the node's Prometheus",
        timeout=120,
        interval=2,
    )
    print(f"SLO status: {slo}")
    started = time.monotonic()
    chart.node.kubectl(*story.ship(shop, story.GOOD))
    promoted = eventually(
        lambda: story.rollout_status(chart.node, shop),
        lambda status: status.get("phase") == "Succeeded",
        "the good version promoted by the operator in its Pod",
        timeout=180,
        interval=2,
    )
    print(f"promoted in {time.monotonic() - started:.0f}s: {promoted.get('message')}")


def _container_pid(node: RealNodeCluster, pod: dict[str, Any]) -> int:
    container_id = pod["status"]["containerStatuses"][0]["containerID"].removeprefix(
        "containerd://"
    )
    tasks = subprocess.run(
        [*node.ctr, "tasks", "ls"], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    for line in tasks.splitlines():
        fields = line.split()
        if fields and fields[0] == container_id:
            return int(fields[1])
    raise AssertionError(f"no containerd task {container_id} in:\n{tasks}")


def test_the_kubelet_restarts_a_wedged_operator(chart: Chart, shop: str) -> None:
    (pod,) = chart.running_pods()
    name = pod["metadata"]["name"]
    restarts = pod["status"]["containerStatuses"][0]["restartCount"]
    # SIGSTOP freezes the whole process: its event loop, its probe thread, its Lease renewal.
    os.kill(_container_pid(chart.node, pod), signal.SIGSTOP)
    stopped_at = time.monotonic()
    restarted = eventually(
        lambda: next(p for p in chart.pods() if p["metadata"]["name"] == name)["status"],
        lambda status: (
            status["containerStatuses"][0]["restartCount"] > restarts and _ready({"status": status})
        ),
        "the kubelet to restart the frozen operator and the new container to be Ready",
        timeout=150,
        interval=2,
    )
    seconds = time.monotonic() - stopped_at
    unhealthy = chart.node.kubectl(
        "get", "events", "-n", SYSTEM, "--field-selector",
        f"involvedObject.name={name},reason=Unhealthy", "-o", "jsonpath={.items[*].message}",
    ).stdout  # fmt: skip
    print(f"restarted {seconds:.0f}s after SIGSTOP; kubelet: {unhealthy}")
    assert "Liveness probe failed" in unhealthy
    assert restarted["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 137
    eventually(
        lambda: chart.leader_gauge(name),
        lambda gauge: gauge == "1.0",
        "the restarted operator to lead again once the frozen one's Lease expired",
        timeout=60,
        interval=2,
    )


def _change_in_flight(chart: Chart, shop: str, version: story.Version) -> dict[str, Any]:
    """Ship ``version`` and return the change's record once its canary serves."""
    chart.node.kubectl(*story.ship(shop, version))
    status = eventually(
        lambda: story.rollout_status(chart.node, shop),
        lambda status: (
            status.get("phase") == "Progressing" and bool(status.get("current", {}).get("steps"))
        ),
        f"a canary of {version.name} serving its first step",
        timeout=120,
        interval=1,
    )
    return dict(status["current"])


def _finished(status: dict[str, Any], started_at: str) -> dict[str, Any] | None:
    """The change that started at ``started_at``, once it is over (it is then in history)."""
    return next((c for c in status.get("history", []) if c["startedAt"] == started_at), None)


def _promoted_after(
    chart: Chart, shop: str, before: dict[str, Any], version: str, upgraded_at: datetime
) -> None:
    change = eventually(
        lambda: _finished(story.rollout_status(chart.node, shop), before["startedAt"]),
        lambda change: change is not None,
        f"the change to {version}, started before the upgrade, to finish after it",
        timeout=180,
        interval=2,
    )
    assert change is not None
    assert change["outcome"] == "Promoted", change
    assert datetime.fromisoformat(change["finishedAt"]) > upgraded_at, "finished before it"
    env = chart.node.kubectl(
        "get", "deployment", story.TARGET, "-n", shop,
        "-o", "jsonpath={.spec.template.spec.containers[0].env}",
    ).stdout  # fmt: skip
    assert version in env, env
    print(f"change of {before['startedAt']} promoted after the upgrade at {change['finishedAt']}")


@pytest.mark.parametrize("replicas", [1, 2])
def test_helm_upgrade_completes_and_the_change_in_flight_carries_on(
    chart: Chart, shop: str, replicas: int
) -> None:
    version = story.Version(f"2.{replicas}")
    before = _change_in_flight(chart, shop, version)
    old_pods = {p["metadata"]["name"] for p in chart.running_pods()}
    new_tag = _image_tag(chart.node, f"{chart.repository}:{chart.tag}", f"{chart.tag}-r{replicas}")
    values = [f"image.tag={new_tag}", f"replicaCount={replicas}"]
    if replicas > 1:
        values.append("podDisruptionBudget.enabled=true")
    seconds = chart.install(*values)
    upgraded_at = datetime.now(UTC)
    status = chart.node.kubectl(
        "rollout", "status", f"deployment/{RELEASE}", "-n", SYSTEM, "--timeout=10s"
    )
    pods = chart.running_pods()
    print(f"helm upgrade --wait to {new_tag} with {replicas} replica(s): {seconds:.1f}s")
    assert "successfully rolled out" in status.stdout
    assert len(pods) == replicas
    assert not old_pods & {p["metadata"]["name"] for p in pods}, "an old Pod still runs"
    assert all(p["spec"]["containers"][0]["image"].endswith(f":{new_tag}") for p in pods)
    assert all(_ready(p) for p in pods)
    leader = eventually(
        chart.leader,
        lambda holder: holder in {p["metadata"]["name"] for p in pods},
        "a new Pod to hold the Lease",
        timeout=60,
        interval=1,
    )
    gauges = {p["metadata"]["name"]: chart.leader_gauge(p["metadata"]["name"]) for p in pods}
    assert gauges == {name: "1.0" if name == leader else "0.0" for name in gauges}, gauges
    _promoted_after(chart, shop, before, version.name, upgraded_at)
    if replicas > 1:
        _evict_the_leader(chart, leader)


def _evict_the_leader(chart: Chart, leader: str) -> None:
    """Draining the leader's node: the PodDisruptionBudget lets the eviction through, because
    the standby counts as available, and the standby takes over."""
    core = client.CoreV1Api(api_client(str(chart.node.kubeconfig)))
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name=leader, namespace=SYSTEM))
    core.create_namespaced_pod_eviction(leader, SYSTEM, eviction)  # 429 if the budget refused
    new_leader = eventually(
        chart.leader,
        lambda holder: holder not in ("", leader),
        "the standby to take over from the evicted leader",
        timeout=60,
        interval=1,
    )
    print(f"leader {leader} evicted under the PodDisruptionBudget; {new_leader} leads")
