"""A Prometheus that does not answer is named, with why, in one short line: the status message
an on-call engineer reads is not urllib3's pool repr with the URL-encoded query. One that answers a
byte at a time is given up on when the query's timeout is over, not a byte's read timeout."""

from __future__ import annotations

import socket
import time

import pytest

from slokeeper.localcluster.processes import free_port
from slokeeper.prometheus.client import PrometheusClient, PrometheusUnreachableError
from unit.slow_server import SlowServer, http_answer


def test_a_refused_connection_says_so_in_one_short_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusUnreachableError) as raised:
        PrometheusClient(url, timeout_seconds=2).query(
            'sum(rate(http_requests_total{code=~"5.."}[5m]))'
        )
    message = str(raised.value)
    assert message == f"Prometheus at {url} did not answer: Connection refused", message


def test_a_silent_server_times_out() -> None:
    with socket.socket() as listening:  # accepts, never answers
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        url = f"http://127.0.0.1:{listening.getsockname()[1]}"
        with pytest.raises(PrometheusUnreachableError) as raised:
            PrometheusClient(url, timeout_seconds=0.5).query("up")
    # The query's 0.5 s is over before the client's per-read timeout (whole seconds) is.
    assert (
        str(raised.value) == f"Prometheus at {url} did not answer: no complete answer within 0.5s"
    )


@pytest.mark.parametrize(
    "at_once",
    [pytest.param(0, id="trickled from the status line"), pytest.param(38, id="body trickled")],
)
def test_a_trickling_prometheus_is_unreachable_once_the_timeout_is_over(at_once: int) -> None:
    # A byte every 0.2 s: each read waits far less than the 2 s read timeout, and the whole
    # answer (~100 bytes) would take 20 s.
    with SlowServer(http_answer(), at_once=at_once, byte_every=0.2) as server:
        started = time.monotonic()
        with pytest.raises(PrometheusUnreachableError) as raised:
            PrometheusClient(server.url, timeout_seconds=2).query("up")
        took = time.monotonic() - started
    assert 2.0 <= took < 2.5, took
    assert str(raised.value) == (
        f"Prometheus at {server.url} did not answer: no complete answer within 2s"
    )
