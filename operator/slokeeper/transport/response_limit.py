"""A cap on the size of every answer: the body is read in chunks and the read stops at the cap.

A Prometheus, an Alertmanager or a proxy in front of them that answers with hundreds of MB must
not take the operator's memory with it. ``BoundedAdapter`` (requests' adapter, keeping the total
deadline of ``transport.deadline`` as well) reads each body itself, counting the bytes it holds
(after decompression), and ends the request with ``ResponseTooLargeError`` at the cap, closing
the connection; a ``Content-Length`` over the cap ends it before any of the body is read.
Used by the Prometheus client and the Alertmanager silences client.
"""

from __future__ import annotations

import io
import re
from typing import Any

import requests

from slokeeper.transport.deadline import DeadlineAdapter

MIB = 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 64 * MIB
_CHUNK_BYTES = 64 * 1024
_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}
_UNITS |= {"ki": 1024, "mi": MIB, "gi": 1024 * MIB}
_SIZE = re.compile(r"\s*(\d+)\s*([kmg]i?)?b?\s*", re.IGNORECASE)


class ResponseTooLargeError(requests.RequestException):
    """The answer was larger than the most the operator reads."""


def parse_size(text: str) -> int:
    """Bytes in ``64MiB``, ``500MB``, ``1GiB``, ``1048576``: 1 or more."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (e.g. 64MiB, 500MB, 1048576)")
    size = int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]
    if size < 1:
        raise ValueError(f"a size must be 1 byte or more, not {text!r}")
    return size


def format_size(size: int) -> str:
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    return f"{size} bytes"


def _too_large(limit: int, response: requests.Response) -> ResponseTooLargeError:
    response.close()  # the rest stays unread: the connection is dropped, not reused
    return ResponseTooLargeError(
        f"answer larger than {format_size(limit)}, the most slokeeper reads",
        request=response.request,
        response=response,
    )


def read_within(response: requests.Response, limit: int) -> None:
    """Read ``response``'s body into it (as requests would), or raise at ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, response)
    body = io.BytesIO()
    for chunk in response.iter_content(_CHUNK_BYTES):
        if body.tell() + len(chunk) > limit:
            raise _too_large(limit, response)
        body.write(chunk)
    response._content = body.getvalue()  # what Response.content would have read and kept


class BoundedAdapter(DeadlineAdapter):
    """requests' adapter with the total deadline, reading no answer larger than
    ``max_response_bytes``. It reads every body at once, as a session that does not stream
    does: mount it only on sessions that never ask for a streamed body."""

    def __init__(self, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_response_bytes = max_response_bytes

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        response = super().send(request, *args, **kwargs)
        read_within(response, self.max_response_bytes)
        return response


def bounded_session(
    session: requests.Session, max_response_bytes: int, *prefixes: str, **adapter: Any
) -> requests.Session:
    """``session`` with every http(s) URL (and ``prefixes``, in place of adapters mounted there
    before) sent through one ``BoundedAdapter``; ``adapter`` are its other arguments."""
    bounded = BoundedAdapter(max_response_bytes, **adapter)
    for prefix in ("http://", "https://", *prefixes):
        session.mount(prefix, bounded)
    return session
