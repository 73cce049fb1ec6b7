"""User story: when the analysis cannot give a verdict, the SRE sees why — no traffic reached the
canary, the PromQL is wrong, Prometheus is down — and the rollout does what the spec says for that
case. None of them ever promotes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from kubernetes import client

from polling import eventually
from resources import apply, availability_slo, change_rollout, held_past_its_pause, rollout_status
from running_operator import RunningOperator, running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator
from workloads import deploy_ready, ready_replicas, set_image

ANALYSIS: dict[str, Any] = {
    "interval": "3s",
    "window": "20s",
    "slos": [{"name": "checkout-availability", "maxBurnRate": 2}],
    "minRequestCount": 50,
}
# A missing parenthesis: Prometheus rejects the query.
TYPO = 'sum(rate(http_requests_total{pod=~"{{.canaryPods}}",code=~"5.."}[20s])'
FIXED = TYPO + ")"


def test_no_traffic_holds_then_rolls_back_and_a_promql_typo_holds_until_fixed(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    apps = client.AppsV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    apply(
        cluster,
        availability_slo(namespace),
        change_rollout(
            namespace,
            analysis={**ANALYSIS, "onNotEnoughTraffic": "Hold", "maxInconclusive": "20s"},
        ),
    )
    eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")

    # A version nothing routes traffic to: NotEnoughTraffic, held, then rolled back.
    set_image(cluster, namespace, "1.2-idle")
    held = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Progressing" and s.get("reason") == "NotEnoughTraffic",
        "the idle canary to be held for lack of traffic",
    )
    assert "The canary served 0 requests; 50 are needed" in held["message"]
    rolled_back = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "RolledBack",
        "the idle canary to be rolled back after 20 s without a verdict",
    )
    change = rolled_back["history"][0]
    assert (change["outcome"], change["reason"]) == ("RolledBack", "InconclusiveTooLong")
    assert change["steps"][0]["passedAnalyses"] == 0
    assert change["steps"][0]["inconclusiveAnalyses"] >= 1

    # A PromQL typo: QueryInvalid, held past the step's pause (never promoted), until fixed.
    check = {"name": "canary-errors", "query": TYPO, "max": 5}
    analysis = {**ANALYSIS, "checks": [check], "maxInconclusive": "10m"}
    apply(cluster, change_rollout(namespace, analysis=analysis))
    set_image(cluster, namespace, "1.3")
    invalid = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("reason") == "QueryInvalid" and held_past_its_pause(s, 10),
        "the typo to hold the canary past its 10 s pause",
        timeout=90,
    )
    assert (invalid["phase"], invalid["current"]["step"]) == ("Progressing", 0)
    assert "parse error" in invalid["message"], invalid["message"]
    assert ready_replicas(apps, namespace, "checkout-canary") == 1
    apply(
        cluster,
        change_rollout(namespace, analysis={**analysis, "checks": [check | {"query": FIXED}]}),
    )
    promoted = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Succeeded",
        "the fixed query to let 1.3 through",
        timeout=120,
    )
    measured = promoted["history"][0]["steps"][-1]["lastAnalysis"]["measurements"]
    assert any(m["name"] == "check/canary-errors" and m["passed"] for m in measured), measured


def test_prometheus_down_rolls_back_when_the_spec_says_so(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    toolchain: Toolchain,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace, apps = solo_namespace, client.AppsV1Api(api_client)
    own = PrometheusServer(toolchain.prometheus, tmp_path / "prometheus")
    own.workdir.mkdir()
    own.jobs.append(ScrapeJob("simulator", (simulator.address,)))
    with (
        own,
        running_operator(
            cluster.kubeconfig, own.url, tmp_path / "operator.log", namespaces=(namespace,)
        ),
    ):
        deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
        apply(
            cluster,
            availability_slo(namespace),
            change_rollout(
                namespace,
                steps=[{"weight": 25, "pause": "10m"}],
                analysis={**ANALYSIS, "onPrometheusUnreachable": "Rollback"},
            ),
        )
        eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")
        set_image(cluster, namespace, "1.2")
        eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: s.get("reason") == "AnalysisPassed",
            "an analysis to pass while Prometheus is up",
            timeout=90,
        )
        own.stop()
        rolled_back = eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: s.get("phase") == "RolledBack",
            "the rollback the spec asks for when Prometheus is unreachable",
        )
    change = rolled_back["history"][0]
    assert (change["outcome"], change["reason"]) == ("RolledBack", "PrometheusUnreachable")
    assert "did not answer" in change["steps"][0]["lastAnalysis"]["message"]
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == -1,
        "the canary removed",
    )


def test_rollback_on_no_traffic_waits_for_evidence_and_spares_a_healthy_canary(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """`onNotEnoughTraffic: Rollback` means "no traffic", never "not scraped yet": a healthy
    canary's first analyses find 0 requests, yet it is promoted; an idle one is rolled back once
    it has been Ready for a whole analysis window (20 s)."""
    apps = client.AppsV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    analysis = {**ANALYSIS, "onNotEnoughTraffic": "Rollback"}
    steps = [{"weight": 25, "pause": "5s"}]
    apply(
        cluster,
        availability_slo(namespace),
        change_rollout(namespace, steps=steps, analysis=analysis),
    )
    eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")

    change = _shipped_change(cluster, namespace, "1.2")
    assert (change["outcome"], change["reason"]) == ("Promoted", "Promoted"), change
    waited = [a for a in change["analyses"] if a["outcome"] == "NotEnoughTraffic"]
    print(f"1.2: {len(waited)} analyses found too little traffic before its verdict")

    change = _shipped_change(cluster, namespace, "1.3-idle")
    assert (change["outcome"], change["reason"]) == ("RolledBack", "NotEnoughTraffic"), change
    decided = datetime.fromisoformat(change["finishedAt"])
    held = [d for d in change["decisions"] if d["reason"] == "NotEnoughTraffic"]
    assert held, change["decisions"]
    assert "analysis window" in held[0]["message"], held
    first_quiet = datetime.fromisoformat(held[0]["time"])  # status keeps only the last analyses
    waited_seconds = (decided - first_quiet).total_seconds()
    print(f"1.3-idle: rolled back {waited_seconds:.1f}s after its first quiet analysis")
    # The canary was Ready at or before its first analysis; less one 3 s interval of slack.
    assert waited_seconds >= 20 - 3, "rolled back before a whole window of evidence"


def _shipped_change(cluster: LocalCluster, namespace: str, version: str) -> dict[str, Any]:
    """Ship ``version`` and return its change's record once it has ended (in history)."""
    before = len(rollout_status(cluster, namespace).get("history", []))
    set_image(cluster, namespace, version)
    ended = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: len(s.get("history", [])) > before and s.get("phase") != "Promoting",
        f"the change to {version} to end",
        timeout=120,
    )
    change: dict[str, Any] = ended["history"][0]
    return change
