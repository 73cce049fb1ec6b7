"""A total deadline on HTTP requests: a server that trickles its answer a byte at a time, from the
status line or after the headers, is given up on at the deadline with an error that says so,
although no single read ever waits as long as the per-read timeout; a prompt server is unaffected,
and retries stop rather than start past the deadline, keeping the error that caused them."""

from __future__ import annotations

import time

import pytest
import urllib3

from slokeeper.localcluster.processes import free_port
from slokeeper.transport.deadline import DeadlineRetry, keep_deadlines, total_deadline
from slokeeper.transport.no_answer import no_answer_reason
from unit.slow_server import SlowServer, http_answer

PER_READ = urllib3.Timeout(connect=2.0, read=2.0)  # longer than a byte's wait, so never hit


def _manager(retries: urllib3.Retry | bool = False) -> urllib3.PoolManager:
    manager = urllib3.PoolManager(retries=retries, timeout=PER_READ)
    assert keep_deadlines(manager)
    return manager


@pytest.mark.parametrize(
    "at_once",
    [pytest.param(0, id="trickled from the status line"), pytest.param(38, id="body trickled")],
)
def test_a_trickling_server_is_given_up_on_at_the_deadline(at_once: int) -> None:
    with SlowServer(http_answer(), at_once=at_once, byte_every=0.1) as server:
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError) as raised, total_deadline(1.0):
            _manager().request("GET", server.url).data  # noqa: B018 - reads the body
        took = time.monotonic() - started
    assert 1.0 <= took < 1.5, took
    assert no_answer_reason(raised.value) == "no complete answer within 1s"


def test_a_prompt_answer_is_read_whole_within_the_deadline() -> None:
    with SlowServer(http_answer(), at_once=10_000) as server, total_deadline(5.0):
        answer = _manager().request("GET", server.url)
    assert answer.status == 200
    assert answer.json()["status"] == "success"


def test_without_a_deadline_only_the_per_read_timeout_applies() -> None:
    with SlowServer(http_answer(), at_once=38, byte_every=0.01) as server:
        answer = _manager().request("GET", server.url)  # 65 bytes in ~0.7s, each within 2s
    assert answer.json()["status"] == "success"


def test_a_silent_server_still_meets_the_per_read_timeout_first() -> None:
    with SlowServer() as server:
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError) as raised, total_deadline(10.0):
            urllib3.PoolManager(retries=False, timeout=0.3).request("GET", server.url)
    assert time.monotonic() - started < 2.0
    assert no_answer_reason(raised.value) == "timed out"


def test_retries_stop_before_a_backoff_would_pass_the_deadline() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    retry = DeadlineRetry(total=3, backoff_factor=1)  # waits 0 s, 2 s, 4 s between attempts
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.MaxRetryError) as raised, total_deadline(1.0):
        _manager(retry).request("GET", url)
    assert time.monotonic() - started < 1.0, "no backoff slept past the deadline"
    assert no_answer_reason(raised.value) == "Connection refused"


def test_an_inner_deadline_cannot_extend_an_outer_one() -> None:
    with SlowServer(http_answer(), byte_every=0.1) as server:
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError), total_deadline(0.5), total_deadline(5):
            _manager().request("GET", server.url)
    assert time.monotonic() - started < 1.0
