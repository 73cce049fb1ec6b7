"""User story: Prometheus scrapes a target, and the operator's client library reads it back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_api_client import PrometheusConnect

from polling import eventually
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob


class _Target:
    """A scrape target whose request counter grows by 10 on every scrape."""

    def __init__(self) -> None:
        self.scrapes = 0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target.scrapes += 1
                body = (
                    "# TYPE demo_requests_total counter\n"
                    f'demo_requests_total{{namespace="shop",pod="checkout-1",code="200"}} '
                    f"{10 * target.scrapes}\n"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def target(prometheus: PrometheusServer) -> Iterator[_Target]:
    served = _Target()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    prometheus.remove_job("demo")
    served.server.shutdown()


def test_prometheus_scrapes_a_target_and_answers_promql(
    prometheus: PrometheusServer, target: _Target
) -> None:
    prometheus.add_job(ScrapeJob("demo", (target.address,)))
    connection = PrometheusConnect(url=prometheus.url, disable_ssl=True)

    samples = eventually(
        lambda: connection.custom_query('demo_requests_total{code="200"}'),
        lambda result: len(result) == 1 and float(result[0]["value"][1]) >= 20,
        "two scrapes of the target",
    )
    labels = samples[0]["metric"]
    # honor_labels keeps the target's own namespace and pod, as Kubernetes SD would set them.
    assert (labels["job"], labels["namespace"], labels["pod"]) == ("demo", "shop", "checkout-1")
    assert float(samples[0]["value"][1]) <= 10 * target.scrapes

    # The target serves 10 more requests per 2 s scrape: once the 10 s window is full of samples,
    # rate() must settle at 5 per second.
    eventually(
        lambda: connection.custom_query("sum(rate(demo_requests_total[10s]))"),
        lambda result: len(result) == 1 and 4.5 <= float(result[0]["value"][1]) <= 5.5,
        "rate() to settle at 5 requests per second",
        timeout=30,
    )
