"""User story: a canary's analysis reads the SLO's own SLI on the canary's pods and on stable's
from the real Prometheus: a failing version fails, a healthy one passes, an idle one gets no
verdict."""

from __future__ import annotations

from kubernetes import client

from polling import eventually
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.prometheus.canary_evidence import canary_pods, slo_evidence
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.rollout.analysis import Outcome, Verdict, analyse
from slokeeper.simulator.server import TrafficSimulator
from slokeeper.slo.objective import Objective, RatioIndicator, RollingWindow
from slokeeper.slo.windows import DAY
from workloads import checkout_deployment


def _objective(namespace: str) -> Objective:
    selector = f'namespace="{namespace}"'
    return Objective(
        namespace,
        "checkout-availability",
        "checkout",
        99.9,
        RollingWindow(28 * DAY),
        RatioIndicator(
            errors=f'sum(rate(http_requests_total{{{selector},code=~"5.."}}[{{{{.window}}}}]))',
            total=f"sum(rate(http_requests_total{{{selector}}}[{{{{.window}}}}]))",
        ),
    )


def _verdict(prometheus: PrometheusServer, namespace: str) -> Verdict:
    evidence = slo_evidence(
        PrometheusClient(prometheus.url),
        _objective(namespace),
        target="checkout",
        canary_regex=canary_pods("checkout"),
        window_seconds=20,
        max_burn_rate=2.0,
    )
    return analyse((evidence,), (), min_request_count=100)


def test_a_bad_canary_fails_and_a_good_one_passes(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    namespace: str,
) -> None:
    for name, replicas, image, variant in (
        ("checkout", 3, "shop/checkout:1.1-perfect", "stable"),
        ("checkout-canary", 1, "shop/checkout:1.2-bad", "canary"),
    ):
        cluster.kubectl(
            "apply",
            "-n",
            namespace,
            "-f",
            "-",
            input_text=checkout_deployment(name, replicas, image, variant),
        )
    failed = eventually(
        lambda: _verdict(prometheus, namespace),
        lambda verdict: verdict.outcome is Outcome.FAIL,
        "the 20 %-errors canary to fail its analysis",
        timeout=60,
    )
    burn = next(m for m in failed.measurements if m.name.endswith("canary burn rate"))
    assert burn.value is not None
    assert 150 <= burn.value <= 250  # 20 % errors against a 0.1 % allowance: 200x
    p_value = next(m for m in failed.measurements if "p-value" in m.name)
    assert p_value.passed is False

    cluster.kubectl(
        "set",
        "image",
        "deployment/checkout-canary",
        "checkout=shop/checkout:1.2-perfect",
        "-n",
        namespace,
    )
    passed = eventually(
        lambda: _verdict(prometheus, namespace),
        lambda verdict: verdict.outcome is Outcome.PASS,
        "the new, healthy canary to pass once the bad pod's series are gone",
        timeout=90,
    )
    assert all(m.passed for m in passed.measurements)

    cluster.kubectl("scale", "deployment/checkout-canary", "--replicas=0", "-n", namespace)
    eventually(
        lambda: _verdict(prometheus, namespace),
        lambda verdict: verdict.outcome is Outcome.NOT_ENOUGH_TRAFFIC,
        "no verdict once the canary serves nothing",
        timeout=90,
    )
