"""User story: after ``helm install``, an SRE runs ``helm test`` and learns whether the operator
answers. On the real node (real kubelet and containerd, the image built from the Dockerfile): the
chart's test Pod runs under the Pod Security "restricted" level, non-root with a read-only root
filesystem, reaches the operator through its metrics Service, and passes; with the operator
scaled to zero the same test fails and says why.

The release is a second one, in a namespace of its own, with the admission policies off and
the CRDs applied beforehand (so it takes none over): other real-node tests share this node.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from helm import CHART, helm
from polling import eventually
from slokeeper.localcluster.realnode.configs import NODE_IP
from slokeeper.localcluster.realnode.images import RealNodeImages
from slokeeper.localcluster.realnode.monitoring import PROMETHEUS_PORT
from slokeeper.localcluster.realnode.node import RealNodeCluster
from slokeeper.localcluster.toolchain import Toolchain

RELEASE = "hooktest"
NAMESPACE = "slokeeper-hooktest"
WATCHED = "hooktest-shop"


@pytest.fixture(scope="module")
def release(
    real_node: RealNodeCluster,
    toolchain: Toolchain,
    real_node_images: RealNodeImages,
    real_node_prometheus: object,
) -> Iterator[RealNodeCluster]:
    node = real_node
    node.kubectl("apply", "-f", str(CHART.parents[1] / "crds"))
    node.kubectl("create", "namespace", WATCHED, check=False)
    node.kubectl("create", "namespace", NAMESPACE, check=False)
    # The restricted Pod Security level: a test Pod that asks for more is refused at admission.
    node.kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
    repository, _, tag = real_node_images.operator.name.rpartition(":")
    helm(
        toolchain, "upgrade", "--install", RELEASE, str(CHART), "--namespace", NAMESPACE,
        "--wait", "--timeout", "150s",
        "--set", f"image.repository={repository},image.tag={tag},image.pullPolicy=Never",
        "--set", f"prometheus.url=http://{NODE_IP}:{PROMETHEUS_PORT}",
        "--set", f"watchNamespaces={{{WATCHED}}},crds.install=false,logFormat=text",
        "--set", "approvalPolicy.enabled=false,requestPolicy.enabled=false",
        "--set", "guardedDeploymentPolicy.enabled=false,operatorWritePolicy.enabled=false",
        kubeconfig=node.kubeconfig,
    )  # fmt: skip
    yield node
    helm(toolchain, "uninstall", RELEASE, "-n", NAMESPACE, "--wait", kubeconfig=node.kubeconfig)
    for namespace in (NAMESPACE, WATCHED):
        node.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def _helm_test(toolchain: Toolchain, node: RealNodeCluster) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(toolchain.helm), "test", RELEASE, "-n", NAMESPACE, "--logs", "--timeout", "150s",
         "--kubeconfig", str(node.kubeconfig)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_helm_test_passes_when_the_operator_answers_and_fails_saying_why_when_not(
    toolchain: Toolchain, release: RealNodeCluster
) -> None:
    passed = _helm_test(toolchain, release)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Phase:          Succeeded" in passed.stdout
    assert "answers with the operator's metrics" in passed.stdout

    release.kubectl("scale", f"deployment/{RELEASE}-slokeeper", "-n", NAMESPACE, "--replicas=0")
    selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component!=helm-test"

    def operator_pods() -> list[str]:
        found = release.kubectl("get", "pods", "-n", NAMESPACE, "-o", "name", "-l", selector)
        return found.stdout.split()

    eventually(operator_pods, lambda pods: pods == [], "the operator's pods gone")
    failed = _helm_test(toolchain, release)
    assert failed.returncode != 0
    assert "no operator answered within 60 s" in failed.stdout + failed.stderr
