"""A Prometheus that does not answer is named, with why, in one short line: the status message
an on-call engineer reads is not urllib3's pool repr with the URL-encoded query."""

from __future__ import annotations

import socket

import pytest

from slokeeper.localcluster.processes import free_port
from slokeeper.prometheus.client import PrometheusClient, PrometheusUnreachableError


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
    assert str(raised.value) == f"Prometheus at {url} did not answer: timed out"
