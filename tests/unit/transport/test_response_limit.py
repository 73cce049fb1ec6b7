"""No answer is read past the cap: a body without a length stops being read at the cap (the
server sees the connection closed after little more than the cap), a Content-Length over the cap
is refused before the body is read, the operator process' peak memory grows by about the cap and
not by the body, and answers under the cap are read as before."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import requests

from hostile_prometheus import HostilePrometheus
from slokeeper.transport.no_answer import no_answer_reason
from slokeeper.transport.response_limit import (
    MIB,
    ResponseTooLargeError,
    bounded_session,
    parse_size,
)
from unit.slow_server import SlowServer, http_answer

# Loopback buffers (the receiver's autotuned up to net.ipv4.tcp_rmem's 32 MiB, the sender's 4 MiB)
# hold what the server could send that the client never read.
BUFFERED = 40 * MIB


def test_sizes_are_read_as_written() -> None:
    assert parse_size("64MiB") == 64 * MIB
    assert parse_size("500MB") == 500_000_000
    assert parse_size("1gi") == 1024 * MIB
    assert parse_size("4096") == 4096
    for wrong in ("", "0", "64 potatoes", "-1MiB", "1.5MiB"):
        with pytest.raises(ValueError, match="size"):
            parse_size(wrong)


def test_a_body_without_a_length_stops_being_read_at_the_cap() -> None:
    with HostilePrometheus(huge_bytes=1024 * MIB) as server:
        session = bounded_session(requests.Session(), 8 * MIB)
        with pytest.raises(ResponseTooLargeError) as raised:
            session.get(server.url, timeout=30)
        assert (
            no_answer_reason(raised.value) == "answer larger than 8 MiB, the most slokeeper reads"
        )
        session.close()
        server.__exit__(None, None, None)
    (sent,) = server.counted()
    assert 8 * MIB < sent < 8 * MIB + BUFFERED, sent


def test_a_length_over_the_cap_is_refused_before_the_body_is_read() -> None:
    with HostilePrometheus(huge_bytes=1024 * MIB, content_length=True) as server:
        session = bounded_session(requests.Session(), 8 * MIB)
        with pytest.raises(ResponseTooLargeError):
            session.get(server.url, timeout=30)
        session.close()
        server.__exit__(None, None, None)
    (sent,) = server.counted()
    assert sent < BUFFERED, sent


def test_an_answer_under_the_cap_is_read_whole() -> None:
    with SlowServer(http_answer(), at_once=10_000) as server:
        session = bounded_session(requests.Session(), 1024)
        assert session.get(server.url, timeout=5).json()["status"] == "success"
        with pytest.raises(ResponseTooLargeError):
            bounded_session(requests.Session(), 10).get(server.url, timeout=5)


_CHILD = textwrap.dedent(
    """
    import json, sys
    from slokeeper.prometheus.client import PrometheusClient, PrometheusUnreachableError

    def peak():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

    client = PrometheusClient(sys.argv[1], timeout_seconds=60, max_response_bytes=int(sys.argv[2]))
    before = peak()
    try:
        client.query("up")
        message = "answered"
    except PrometheusUnreachableError as error:
        message = str(error)
    print(json.dumps({"grew": peak() - before, "message": message}))
    """
)


def _peak_growth(url: str, cap: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(cap)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_peak_memory_grows_by_about_the_cap_not_by_the_body() -> None:
    with HostilePrometheus(huge_bytes=1024 * MIB) as server:
        capped = _peak_growth(server.url, 16 * MIB)
    assert "answer larger than 16 MiB" in str(capped["message"])
    grew = int(str(capped["grew"]))
    assert grew < 16 * MIB * 3, f"peak RSS grew by {grew / MIB:.0f} MiB for a 16 MiB cap"
    # The measurement sees a body that is read: 96 MiB under a 1 GiB cap grows it by more.
    with HostilePrometheus(huge_bytes=96 * MIB) as server:
        uncapped = _peak_growth(server.url, 1024 * MIB)
    assert int(str(uncapped["grew"])) > 96 * MIB, uncapped
