"""Session fixtures: the real local control plane and Prometheus, started once for all tests.

Nothing here is skipped when a component is missing: the toolchain is built on first use, and a
component that does not start fails the session with the tail of its log.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config

from real_node_files import is_real_node_file
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
T = TypeVar("T")


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


class _RealNodeSession:
    """The real node and what runs on it, each started on first use; all stopped when the run
    leaves the real-node files (after the last of them on this worker, see the hook below), so
    its control plane, kubelet and Prometheus do not idle beside the rest of the run."""

    def __init__(self, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.toolchain, self.tmp_path_factory = toolchain, tmp_path_factory
        self._running = ExitStack()
        self._parts: dict[str, Any] = {}

    def part(self, name: str, start: Callable[[ExitStack], T]) -> T:
        if name not in self._parts:
            self._parts[name] = start(self._running)
        found: T = self._parts[name]
        return found

    def stop(self) -> None:
        self._parts.clear()
        self._running.close()


_real_node_sessions: list[_RealNodeSession] = []


@pytest.fixture(scope="session")
def real_node_session(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_RealNodeSession]:
    session = _RealNodeSession(toolchain, tmp_path_factory)
    _real_node_sessions.append(session)
    yield session
    session.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    if is_real_node_file(item.nodeid) and not (nextitem and is_real_node_file(nextitem.nodeid)):
        for session in _real_node_sessions:
            session.stop()  # started again if a later test asks for it


@pytest.fixture(scope="module")
def real_node(real_node_session: _RealNodeSession) -> RealNodeCluster:
    """A real single-node cluster (kubelet, containerd, kube-proxy) in its own network
    namespace, for what only real pods show."""

    def start(running: ExitStack) -> RealNodeCluster:
        workdir = real_node_session.tmp_path_factory.mktemp("realnode")
        node = running.enter_context(RealNodeCluster(real_node_session.toolchain, workdir))
        _startup["real node"] = node.startup_seconds
        return node

    return real_node_session.part("node", start)


@pytest.fixture(scope="module")
def real_node_images(
    real_node: RealNodeCluster, real_node_session: _RealNodeSession
) -> RealNodeImages:
    """The pause, operator and demo-app images, built from the project's files (cached) and
    imported into the real node's containerd."""

    def start(_: ExitStack) -> RealNodeImages:
        images = ensure_images()
        ctr = shutil.which("ctr")
        assert ctr, "ctr (Debian package containerd) is missing after host_packages.sh"
        import_images(
            Path(ctr), real_node.dirs.containerd_socket, [i.archive for i in images.node_images]
        )
        return images

    return real_node_session.part("images", start)


@pytest.fixture(scope="module")
def real_node_prometheus(
    real_node: RealNodeCluster, real_node_session: _RealNodeSession
) -> PrometheusServer:
    """Prometheus inside the real node's namespace, scraping annotated pods every 5 s."""

    def start(running: ExitStack) -> PrometheusServer:
        workdir = real_node_session.tmp_path_factory.mktemp("real-node-prometheus")
        toolchain = real_node_session.toolchain
        return running.enter_context(node_prometheus(real_node, toolchain.prometheus, workdir))

    return real_node_session.part("prometheus", start)


@pytest.fixture(scope="module")
def real_node_operator(
    real_node: RealNodeCluster,
    real_node_images: RealNodeImages,
    real_node_prometheus: PrometheusServer,
    real_node_session: _RealNodeSession,
) -> RunningOperator:
    """`slokeeper run` against the real node and its Prometheus (which scrapes the annotated
    pods), evaluating every 3 s, for the namespaces `real-*`."""

    def start(running: ExitStack) -> RunningOperator:
        real_node.kubectl("apply", "-f", str(ROOT / "crds"))
        real_node.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        log = real_node_session.tmp_path_factory.mktemp("real-node-operator") / "operator.log"
        return running.enter_context(
            running_operator(
                real_node.kubeconfig, real_node_prometheus.url, log, namespaces=("real-*",)
            )
        )

    return real_node_session.part("operator", start)


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
