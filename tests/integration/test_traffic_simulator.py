"""User story: the Pods of a Deployment serve traffic Prometheus can see, as real ones would;
a bad version really fails, and a Pod that goes away takes its series with it."""

from __future__ import annotations

from prometheus_api_client import PrometheusConnect

from polling import eventually
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.simulator.server import TrafficSimulator
from workloads import checkout_deployment


def _value(connection: PrometheusConnect, query: str) -> float | None:
    result = connection.custom_query(query)
    return float(result[0]["value"][1]) if result else None


def test_pods_serve_traffic_by_their_image(
    cluster: LocalCluster, namespace: str, prometheus: PrometheusServer, simulator: TrafficSimulator
) -> None:
    """The session's simulator follows every namespace; this test's Pods are in its own."""
    for name, replicas, track, image in (
        ("checkout", 3, "stable", "shop/checkout:1.1"),
        ("checkout-canary", 1, "canary", "shop/checkout:1.2-bad"),
    ):
        manifest = checkout_deployment(name, replicas, image, variant=track)
        cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=manifest)
    connection = PrometheusConnect(url=prometheus.url, disable_ssl=True)
    selector = f'namespace="{namespace}"'

    eventually(
        lambda: _value(connection, f"count(count by (pod) (http_requests_total{{{selector}}}))"),
        lambda pods: pods == 4,
        "four Ready pods scraped",
    )
    canary_errors = eventually(
        lambda: _value(
            connection,
            f'sum(rate(http_requests_total{{{selector},pod=~"checkout-canary-.*",code="500"}}[20s]))'
            f' / sum(rate(http_requests_total{{{selector},pod=~"checkout-canary-.*"}}[20s]))',
        ),
        lambda ratio: ratio is not None and 0.18 <= ratio <= 0.22,
        "the bad canary's error ratio to show 20 %",
    )
    assert canary_errors is not None
    stable_errors = _value(
        connection,
        f'sum(rate(http_requests_total{{{selector},pod!~"checkout-canary-.*",code="500"}}[20s]))'
        f' / sum(rate(http_requests_total{{{selector},pod!~"checkout-canary-.*"}}[20s]))',
    )
    assert stable_errors is not None
    assert stable_errors < 0.01

    cluster.kubectl("delete", "deployment", "checkout-canary", "-n", namespace, "--wait=false")
    eventually(
        lambda: _value(connection, f"count(count by (pod) (http_requests_total{{{selector}}}))"),
        lambda pods: pods == 3,
        "the canary's series to go with its pod",
        timeout=90,
    )
