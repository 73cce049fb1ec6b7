"""Session fixtures: the real local control plane and Prometheus, started once for all tests.

Nothing here is skipped when a component is missing: the toolchain is built on first use, and a
component that does not start fails the session with the tail of its log.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from running_operator import RunningOperator, running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.localcluster.realnode.images import RealNodeImages, ensure_images, import_images
from slokeeper.localcluster.realnode.monitoring import node_prometheus
from slokeeper.localcluster.realnode.node import RealNodeCluster
from slokeeper.localcluster.stack import LocalStack
from slokeeper.localcluster.toolchain import Toolchain, ensure_toolchain
from slokeeper.simulator.server import TrafficSimulator

ROOT = Path(__file__).resolve().parents[2]
_startup: dict[str, float] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup:
        figures = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in _startup.items())
        terminalreporter.write_line(f"local stack start-up: {figures}")


@pytest.fixture(scope="session")
def toolchain() -> Toolchain:
    """The built binaries (built first if missing), for tests that need no running cluster."""
    return ensure_toolchain()


@pytest.fixture(scope="session")
def real_node(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealNodeCluster]:
    """A real single-node cluster (kubelet, containerd, kube-proxy) in its own network
    namespace, for what only real pods show; started on first use, stopped at the end."""
    with RealNodeCluster(toolchain, tmp_path_factory.mktemp("realnode")) as node:
        _startup["real node"] = node.startup_seconds
        yield node


@pytest.fixture(scope="session")
def real_node_images(real_node: RealNodeCluster) -> RealNodeImages:
    """The pause, operator and demo-app images, built from the project's files (cached) and
    imported into the real node's containerd."""
    images = ensure_images()
    ctr = shutil.which("ctr")
    assert ctr, "ctr (Debian package containerd) is missing after host_packages.sh"
    import_images(
        Path(ctr), real_node.dirs.containerd_socket, [i.archive for i in images.node_images]
    )
    return images


@pytest.fixture(scope="session")
def real_node_prometheus(
    real_node: RealNodeCluster, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    """Prometheus inside the real node's namespace, scraping annotated pods every 5 s."""
    workdir = tmp_path_factory.mktemp("real-node-prometheus")
    with node_prometheus(real_node, toolchain.prometheus, workdir) as running:
        yield running


@pytest.fixture(scope="session")
def real_node_operator(
    real_node: RealNodeCluster,
    real_node_images: RealNodeImages,
    real_node_prometheus: PrometheusServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningOperator]:
    """`slokeeper run` against the real node and its Prometheus (which scrapes the annotated
    pods), evaluating every 3 s, for the namespaces `real-*`."""
    real_node.kubectl("apply", "-f", str(ROOT / "crds"))
    real_node.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    log = tmp_path_factory.mktemp("real-node-operator") / "operator.log"
    with running_operator(
        real_node.kubeconfig, real_node_prometheus.url, log, namespaces=("real-*",)
    ) as running:
        yield running


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("stack")) as stack:
        _startup.update(stack.startup_seconds)
        yield stack


@pytest.fixture(scope="session")
def cluster(local_stack: LocalStack) -> LocalCluster:
    assert local_stack.cluster is not None
    return local_stack.cluster


@pytest.fixture(scope="session")
def prometheus(local_stack: LocalStack) -> PrometheusServer:
    assert local_stack.prometheus is not None
    return local_stack.prometheus


@pytest.fixture(scope="session")
def api_client(cluster: LocalCluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(cluster.kubeconfig))


@pytest.fixture(scope="session")
def crds_installed(cluster: LocalCluster) -> Path:
    """crds/ as committed (a unit test proves it matches the models), applied and Established."""
    cluster.kubectl("apply", "-f", str(ROOT / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    return ROOT / "crds"


@pytest.fixture(scope="session")
def simulator(
    api_client: client.ApiClient, prometheus: PrometheusServer
) -> Iterator[TrafficSimulator]:
    """Traffic for every Ready Pod labelled app=checkout in any namespace, scraped by Prometheus."""
    with TrafficSimulator(api_client, (), "app=checkout", requests_per_second=10) as running:
        prometheus.add_job(ScrapeJob("simulator", (running.address,)))
        yield running


@pytest.fixture(scope="session")
def operator_process(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    crds_installed: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningOperator]:
    """`slokeeper run` against the session's cluster and Prometheus, evaluating every 3 s, for
    the namespaces the ``namespace`` fixture makes (tests that run their own operator use
    ``solo_namespace``)."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    with running_operator(
        cluster.kubeconfig, prometheus.url, log, namespaces=("test-*",)
    ) as running:
        yield running


def _namespace(api_client: client.ApiClient, prefix: str) -> Iterator[str]:
    name = f"{prefix}-{secrets.token_hex(4)}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def namespace(api_client: client.ApiClient) -> Iterator[str]:
    """A fresh namespace, watched by the session's operator_process."""
    yield from _namespace(api_client, "test")


@pytest.fixture
def solo_namespace(api_client: client.ApiClient) -> Iterator[str]:
    """A fresh namespace no session operator watches: for tests that run (and kill) their own."""
    yield from _namespace(api_client, "solo")
