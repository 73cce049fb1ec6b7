"""User story (issue 22, point 10): a team applies 300 SLOs before their service has any traffic.
The operator reads them in the same batched queries as SLOs with traffic: a cycle over 300 idle
SLOs costs no more Prometheus queries than a cycle over 300 busy ones (it cost 2,904 when each
idle SLO was read from its own queries every cycle), and the idle SLOs say NoData."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

from polling import eventually
from resources import availability_slo, read_status, ready_condition
from running_operator import running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.simulator.server import TrafficSimulator
from slokeeper.slo.rules import REQUESTS_PER_SECOND
from workloads import checkout_deployment

COUNT = 300
CYCLE = re.compile(r"SLO cycle: (\d+) SLOs, (\d+) queries")


@contextmanager
def _namespace(cluster: LocalCluster, purpose: str) -> Iterator[str]:
    name = f"solo-{purpose}-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false")


def _cycles(log: Path) -> list[tuple[int, int]]:
    text = log.read_text(errors="replace")
    return [(int(slos), int(queries)) for slos, queries in CYCLE.findall(text)]


def _evaluated_rules(prometheus: PrometheusServer, namespace: str) -> int:
    """The SLOs of ``namespace`` whose recording rules Prometheus has evaluated."""
    answer = requests.get(
        f"{prometheus.url}/api/v1/rules",
        params={"type": "record", "rule_name[]": REQUESTS_PER_SECOND},
        timeout=30,
    ).json()
    return sum(
        1
        for group in answer["data"]["groups"]
        for rule in group["rules"]
        if rule["labels"].get("slo_namespace") == namespace
        and rule["health"] == "ok"
        and not rule["lastEvaluation"].startswith("0001")
    )


def _recorded(prometheus: PrometheusServer, namespace: str) -> int:
    answer = requests.get(
        f"{prometheus.url}/api/v1/query",
        params={"query": f'count({REQUESTS_PER_SECOND}{{slo_namespace="{namespace}"}})'},
        timeout=30,
    ).json()
    result = answer["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def _steady_queries(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    namespace: str,
    log: Path,
    *,
    busy: bool,
) -> list[int]:
    """Queries of three cycles over the namespace's SLOs once Prometheus evaluates all their
    rules (and, for busy ones, records every SLO's figures)."""
    documents = [availability_slo(namespace, f"slo-{i:03d}") for i in range(COUNT)]
    cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(documents), timeout=300)
    with running_operator(cluster.kubeconfig, prometheus.url, log, namespaces=(namespace,)):
        eventually(
            lambda: _evaluated_rules(prometheus, namespace),
            lambda count: count == COUNT,
            f"Prometheus to evaluate the rules of all {COUNT} SLOs",
            timeout=300,
            interval=3,
        )
        if busy:
            eventually(
                lambda: _recorded(prometheus, namespace),
                lambda count: count == COUNT,
                f"recorded request rates of all {COUNT} busy SLOs",
                timeout=300,
                interval=3,
            )
        seen = len(_cycles(log))
        cycles = eventually(
            lambda: _cycles(log)[seen + 1 :],  # the first may have started before
            lambda later: len(later) >= 3,
            "three more cycles",
            timeout=120,
            interval=1,
        )
        assert all(slos == COUNT for slos, _ in cycles), cycles
        expected = "Evaluated" if busy else "NoData"
        reason = ready_condition(read_status(cluster, "slo", namespace, "slo-299")).get("reason")
        assert reason == expected, reason
    return [queries for _, queries in cycles[:3]]


def test_a_cycle_over_300_idle_slos_costs_no_more_queries_than_over_300_busy_ones(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    crds_installed: Path,
    simulator: TrafficSimulator,
    tmp_path: Path,
) -> None:
    # Two operators side by side, one per namespace, each counting its own cycles' queries:
    # onboarding the two sets one after the other doubled the wait for Prometheus' evaluation.
    with _namespace(cluster, "idle") as idle, _namespace(cluster, "busy") as busy:
        manifest = checkout_deployment("checkout", 2, "shop/checkout:1.1", variant="1.1")
        cluster.kubectl("apply", "-n", busy, "-f", "-", input_text=manifest)
        with ThreadPoolExecutor(max_workers=2) as pool:
            idle_run = pool.submit(
                _steady_queries, cluster, prometheus, idle, tmp_path / "idle.log", busy=False
            )
            busy_run = pool.submit(
                _steady_queries, cluster, prometheus, busy, tmp_path / "busy.log", busy=True
            )
            idle_queries, busy_queries = idle_run.result(), busy_run.result()
    print(f"queries per cycle: {COUNT} idle SLOs {idle_queries}, {COUNT} busy {busy_queries}")
    assert max(idle_queries) <= min(busy_queries), (idle_queries, busy_queries)
