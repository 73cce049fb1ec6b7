"""The peers bench/peers.py measures us against, run once each so the bench cannot rot: Flagger and
Argo Rollouts (built by the toolchain's peers.sh, run out of cluster with the session's kubeconfig)
each roll back a version failing 20 % of its requests, judged on the canary's error ratio in the
session's Prometheus, as a user of each would see it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from polling import eventually
from slokeeper.localcluster import peer_manifests
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.peers import (
    Peers,
    argo_rollouts_process,
    ensure_peers,
    flagger_process,
)
from slokeeper.localcluster.processes import log_tail
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator

BAD_IMAGE = "shop/checkout:1.2-bad"
BENCH = Path(__file__).resolve().parents[2] / "bench"
# `make setup` builds the peers before the tests; a bare `pytest` builds them in the first peer
# test (about 10 minutes cold) before its own few minutes.
PEER_BUILD_TIMEOUT = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def peers(cluster: LocalCluster) -> Peers:
    """Both peers built (cached after the first time) and their CRDs on the session's cluster."""
    built = ensure_peers()
    for crds in (built.flagger_crds, built.argo_rollouts_crds):
        cluster.kubectl("apply", "--server-side", "-f", str(crds))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    return built


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "peer.log"
    yield path
    print(f"--- the peer's log ({path}) ---\n{log_tail(path, 60)}")


def _get(cluster: LocalCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def _pods(cluster: LocalCluster, namespace: str) -> list[tuple[str, str]]:
    listed = _get(cluster, "pods", "-n", namespace)["items"]
    return [(p["metadata"]["name"], p["spec"]["containers"][0]["image"]) for p in listed]


def _seen(cluster: LocalCluster, kind: str, namespace: str) -> dict[str, Any]:
    status = _get(cluster, kind, peer_manifests.APP, "-n", namespace).get("status", {})
    return {"status": status, "pods": _pods(cluster, namespace)}


def _bad_pods(seen: dict[str, Any]) -> list[str]:
    return [name for name, image in seen["pods"] if image == BAD_IMAGE]


@PEER_BUILD_TIMEOUT
def test_argo_rollouts_aborts_a_failing_canary(
    peers: Peers,
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    solo_namespace: str,
    log: Path,
) -> None:
    objects = peer_manifests.argo_rollouts(
        solo_namespace, prometheus.url, peer_manifests.ArgoSettings(interval="10s")
    )
    with argo_rollouts_process(peers, cluster.kubeconfig, solo_namespace, log):
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(objects))
        seen = lambda: _seen(cluster, "rollout", solo_namespace)  # noqa: E731
        eventually(seen, lambda s: s["status"].get("phase") == "Healthy", "a Healthy Rollout", 90)
        cluster.kubectl(
            "patch", "rollout", peer_manifests.APP, "-n", solo_namespace, "--type=json",
            "-p", json.dumps([{
                "op": "replace", "path": "/spec/template/spec/containers/0/image",
                "value": BAD_IMAGE,
            }]),
        )  # fmt: skip
        eventually(seen, lambda s: bool(_bad_pods(s)), "the failing canary's pod", 60)
        aborted = eventually(
            seen,
            lambda s: s["status"].get("phase") == "Degraded" and not _bad_pods(s),
            "the Rollout Degraded (aborted) and the failing pods gone",
            120,
        )
    status = aborted["status"]
    assert status.get("abort") is True
    assert 'Metric "error-ratio" assessed Failed' in status.get("message", ""), status
    assert sorted(image for _, image in aborted["pods"]) == [peer_manifests.STABLE_IMAGE] * 4


@PEER_BUILD_TIMEOUT
def test_flagger_rolls_back_a_failing_canary(
    peers: Peers,
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    solo_namespace: str,
    log: Path,
) -> None:
    objects = peer_manifests.flagger_canary(
        solo_namespace, prometheus.url, peer_manifests.FlaggerSettings(interval="10s", threshold=1)
    )
    with flagger_process(peers, cluster.kubeconfig, prometheus.url, solo_namespace, log):
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(objects))
        seen = lambda: _seen(cluster, "canary", solo_namespace)  # noqa: E731
        eventually(
            seen, lambda s: s["status"].get("phase") == "Initialized", "an Initialized Canary", 120
        )
        cluster.kubectl(
            "set", "image", f"deployment/{peer_manifests.APP}", f"checkout={BAD_IMAGE}",
            "-n", solo_namespace,
        )  # fmt: skip
        eventually(seen, lambda s: bool(_bad_pods(s)), "the failing canary's pods", 60)
        failed = eventually(
            seen,
            lambda s: s["status"].get("phase") == "Failed" and not _bad_pods(s),
            "the Canary Failed and the failing pods gone",
            120,
        )
        events = cluster.kubectl(
            "get", "events", "-n", solo_namespace,
            "--field-selector", "involvedObject.kind=Canary", "-o", "jsonpath={.items[*].message}",
        ).stdout  # fmt: skip
    assert re.search(r"Halt checkout\.\S+ advancement error-ratio 0\.\d+ > 0\.002", events), events
    assert re.search(r"Rolling back checkout\.\S+ failed checks threshold reached 1", events)
    images = sorted(image for _, image in failed["pods"])
    assert images == [peer_manifests.STABLE_IMAGE] * 4, failed["pods"]


def test_the_rule_cost_bench_measures_what_prometheus_loaded(
    toolchain: Toolchain, tmp_path: Path
) -> None:
    """bench/peers.py's rules part at a tiny scale (3 SLOs, 2 s evaluations): each set's rules
    per SLO as Prometheus reports them equal what its rule file holds, and each set's series and
    evaluation time are measured, with the ratio printed."""
    spec = importlib.util.spec_from_file_location("peers_rule_cost", BENCH / "peers_rule_cost.py")
    assert spec is not None
    assert spec.loader is not None
    peers_rule_cost = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = peers_rule_cost  # dataclasses look their module up by name
    spec.loader.exec_module(peers_rule_cost)
    count = 3
    timing = peers_rule_cost.Timing(evaluation_seconds=2, scrape_seconds=1, evaluations=3)
    figures = peers_rule_cost.run(toolchain, count, 0.25, tmp_path, timing)
    for name, file in peers_rule_cost.SETS.items():
        groups = yaml.safe_load((tmp_path / file).read_text())["groups"]
        in_file = sum(len(group["rules"]) for group in groups)
        assert figures["both"].rules[name] == in_file / count, (name, figures["both"])
        assert figures["both"].series[name] > 0, (name, figures["both"])
        assert figures[name].evaluation_ms[name] > 0, (name, figures[name])
        assert figures[name].head_series > figures["none"].head_series, (name, figures)
