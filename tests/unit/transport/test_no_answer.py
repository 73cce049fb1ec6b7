"""Why a server did not answer, in a few words: the errno's text, 'timed out', or the total
deadline that ran out, found however deep urllib3 and requests wrapped it."""

from __future__ import annotations

from typing import Any, cast

import requests
import urllib3

from slokeeper.transport.deadline import DeadlineExceededError
from slokeeper.transport.no_answer import no_answer_reason

POOL = urllib3.HTTPConnectionPool("10.96.0.1", 443)


def _refused() -> urllib3.exceptions.MaxRetryError:
    return urllib3.exceptions.MaxRetryError(
        POOL,
        "/api/v1/namespaces",
        urllib3.exceptions.NewConnectionError(
            cast(Any, None), "Failed to establish a new connection: [Errno 111] Connection refused"
        ),
    )


def test_a_refused_connection_says_connection_refused() -> None:
    assert no_answer_reason(_refused()) == "Connection refused"
    assert no_answer_reason(requests.ConnectionError(_refused())) == "Connection refused"


def test_a_read_timeout_says_timed_out() -> None:
    error = urllib3.exceptions.ReadTimeoutError(POOL, "/", "Read timed out. (read timeout=30)")
    assert no_answer_reason(error) == "timed out"


def test_a_deadline_wrapped_in_a_protocol_error_inside_max_retries_is_found() -> None:
    overdue = DeadlineExceededError("no complete answer within 60s")
    wrapped = urllib3.exceptions.MaxRetryError(
        POOL, "/", urllib3.exceptions.ProtocolError("Connection aborted.", overdue)
    )
    assert no_answer_reason(wrapped) == "no complete answer within 60s"


def test_anything_else_is_named_by_its_innermost_type() -> None:
    outer = requests.ConnectionError("broken")
    outer.__cause__ = ConnectionResetError()
    assert no_answer_reason(outer) == "ConnectionResetError"
