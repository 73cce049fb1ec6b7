"""User story (issue 23, point 5): a tenant runs an exporter that Prometheus scrapes, publishing
``slokeeper_slo_error_ratio`` series labelled with another namespace's SLO (a 90 % error ratio
for every window), one with ``window="forever"``, and, through a scrape that honours its labels,
copies without ``job``/``instance`` (a second 1 h series, and the forever one). The victim's
figures stay those of an identical SLO that nobody spoofs, and the operator's cycles keep
completing."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import requests

from polling import eventually
from resources import availability_slo, read_status
from running_operator import running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.simulator.metrics_endpoint import metrics_endpoint
from slokeeper.simulator.server import TrafficSimulator
from workloads import checkout_deployment

WINDOWS = ("4m40s", "28m", "56m", "1h", "1h52m", "5h36m", "22h24m", "2d19h12m")
SLO = "checkout-availability"


def _spoof(victim: str, path: str) -> str:
    labels = f'slo_namespace="{victim}",slo="{SLO}",service="checkout"'
    if path == "/single":  # one series, exactly as the victim's own 1h rule would record it
        return f'slokeeper_slo_error_ratio{{{labels},window="1h",job="",instance=""}} 0.9\n'
    # Scraped with honor_labels: these labels replace the target's job and instance.
    if path == "/forged":
        return (
            f'slokeeper_slo_error_ratio{{{labels},window="1h",forged="yes",job="",instance=""}}'
            f" 0.9\n"
            f'slokeeper_slo_error_ratio{{{labels},window="forever",job="",instance=""}} 0.9\n'
        )
    lines = [f'slokeeper_slo_error_ratio{{{labels},window="{w}"}} 0.9' for w in WINDOWS]
    lines += [
        f'slokeeper_slo_error_ratio{{{labels},window="forever"}} 0.9',
        f'slokeeper_slo_requests_per_second{{{labels},window="1h"}} 1000',
    ]
    return "\n".join(lines) + "\n"


def _exporter(victim: str) -> AbstractContextManager[str]:
    """A tenant's exporter: /plain, /forged and /single publish the spoofed series."""
    return metrics_endpoint(lambda path: _spoof(victim, path))


@contextmanager
def _namespaces(cluster: LocalCluster, *purposes: str) -> Iterator[list[str]]:
    names = [f"solo-{purpose}-{secrets.token_hex(3)}" for purpose in purposes]
    for name in names:
        cluster.kubectl("create", "namespace", name)
    try:
        yield names
    finally:
        for name in names:
            cluster.kubectl("delete", "namespace", name, "--wait=false")


def _series(prometheus: PrometheusServer, selector: str) -> list[dict[str, str]]:
    answer = requests.get(
        f"{prometheus.url}/api/v1/query", params={"query": selector}, timeout=30
    ).json()
    return [item["metric"] for item in answer["data"]["result"]]


def _evaluated_namespaces(prometheus: PrometheusServer) -> set[str]:
    """The namespaces of the SLOs whose recording rules Prometheus has evaluated."""
    answer = requests.get(
        f"{prometheus.url}/api/v1/rules",
        params={"type": "record", "rule_name[]": "slokeeper_slo_requests_per_second"},
        timeout=30,
    ).json()
    return {
        rule["labels"].get("slo_namespace", "")
        for group in answer["data"]["groups"]
        for rule in group["rules"]
        if rule.get("health") == "ok" and not rule.get("lastEvaluation", "0001").startswith("0001")
    }


def _figures(cluster: LocalCluster, namespace: str) -> dict[str, Any]:
    status = read_status(cluster, "slo", namespace, SLO)
    ready: dict[str, Any] = next(
        (c for c in status.get("conditions", []) if c["type"] == "Ready"), {}
    )
    return {
        "reason": ready.get("reason"),
        "sliRatio": status.get("sliRatio"),
        "errorBudgetRemainingRatio": status.get("errorBudgetRemainingRatio"),
        "burnRates": status.get("burnRates"),
    }


def test_a_tenants_exporter_cannot_spoof_another_namespaces_figures(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    crds_installed: Path,
    simulator: TrafficSimulator,
    tmp_path: Path,
) -> None:
    log = tmp_path / "operator.log"
    with _namespaces(cluster, "victim", "twin") as (victim, twin), _exporter(victim) as address:
        for namespace in (victim, twin):
            manifest = checkout_deployment("checkout", 2, "shop/checkout:1.1-perfect", "perfect")
            cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=manifest)
            slo = json.dumps(availability_slo(namespace))
            cluster.kubectl("apply", "-f", "-", input_text=slo)
        prometheus.add_job(ScrapeJob("tenant", (address,), honor_labels=False))
        prometheus.add_job(
            ScrapeJob("tenant-honoured", (address,), honor_labels=True, metrics_path="/forged")
        )
        try:
            eventually(
                lambda: _series(prometheus, f'{{slo_namespace="{victim}",window="forever"}}'),
                lambda found: len(found) == 2 and any("job" not in s for s in found),
                "Prometheus to scrape both spoofed forever series, one without job",
                timeout=60,
            )
            with running_operator(
                cluster.kubeconfig, prometheus.url, log, namespaces=(victim, twin)
            ):
                twin_figures = eventually(
                    lambda: _figures(cluster, twin),
                    lambda figures: (
                        figures["reason"] == "Evaluated"
                        and len(figures["burnRates"] or []) == len(WINDOWS)
                    ),
                    "the twin's figures from its recorded series",
                    timeout=180,
                    interval=1,
                )
                eventually(
                    lambda: (_figures(cluster, victim), _figures(cluster, twin)),
                    lambda pair: pair[0] == pair[1],
                    "the victim's figures to equal the twin's",
                    timeout=60,
                    interval=1,
                )
                cycles = len(re.findall("SLO cycle: 2 SLOs", log.read_text()))
                eventually(
                    lambda: len(re.findall("SLO cycle: 2 SLOs", log.read_text())),
                    lambda count: count >= cycles + 3,
                    "three more cycles",
                    timeout=60,
                )
                assert _figures(cluster, victim) == _figures(cluster, twin)
        finally:
            prometheus.remove_job("tenant")
            prometheus.remove_job("tenant-honoured")
    print(f"victim and twin: {twin_figures}")
    assert twin_figures["sliRatio"] == 1.0
    assert twin_figures["errorBudgetRemainingRatio"] == 1.0
    text = log.read_text()
    assert "SLO evaluation cycle failed" not in text
    assert "window='forever'" in text  # the forged forever series was skipped, and said so
    assert len(re.findall("window='forever'", text)) == 1, "logged once"


def test_a_single_forged_series_moves_no_figures_of_an_slo_without_traffic(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    crds_installed: Path,
    tmp_path: Path,
) -> None:
    """Two idle SLOs (no Deployment, no requests) side by side; a tenant's exporter publishes, for
    the victim only, one 1 h error ratio of 90 % without job and instance, scraped as Prometheus
    and the Prometheus Operator scrape by default (labels not honoured: the scrape adds its job
    and instance). An idle SLO records no series of its own, so the forged one would be all the
    reader sees of it; it stays the idle twin's: NoData. (A scrape that honours labels can forge
    any series, job and instance included: docs/security.md says to keep it off tenants'
    targets.)"""
    log = tmp_path / "operator.log"
    with _namespaces(cluster, "idle", "twin") as (victim, twin), _exporter(victim) as address:
        for namespace in (victim, twin):
            cluster.kubectl("apply", "-f", "-", input_text=json.dumps(availability_slo(namespace)))
        prometheus.add_job(
            ScrapeJob("tenant-single", (address,), honor_labels=False, metrics_path="/single")
        )
        try:
            (forged,) = eventually(
                lambda: _series(prometheus, f'{{slo_namespace="{victim}"}}'),
                lambda found: len(found) == 1,
                "Prometheus to scrape the single forged series",
                timeout=60,
            )
            assert forged.get("job") == "tenant-single", forged
            with running_operator(
                cluster.kubeconfig, prometheus.url, log, namespaces=(victim, twin)
            ):
                eventually(
                    lambda: _evaluated_namespaces(prometheus),
                    lambda evaluated: {victim, twin} <= evaluated,
                    "Prometheus to evaluate both SLOs' rules",
                    timeout=180,
                    interval=1,
                )
                cycles = len(re.findall("SLO cycle: 2 SLOs", log.read_text()))
                eventually(
                    lambda: len(re.findall("SLO cycle: 2 SLOs", log.read_text())),
                    lambda count: count >= cycles + 3,
                    "three more cycles",
                    timeout=60,
                )
                victim_figures, twin_figures = _figures(cluster, victim), _figures(cluster, twin)
        finally:
            prometheus.remove_job("tenant-single")
    print(f"idle victim: {victim_figures}; idle twin: {twin_figures}")
    assert victim_figures == twin_figures
    assert victim_figures["reason"] == "NoData", victim_figures
