"""A total deadline on HTTP requests: connecting, the status line, the headers, the body and any
retries, all within ``total_deadline(seconds)``.

urllib3's timeouts (and so requests' and the Kubernetes client's) bound each socket operation: a
server that trickles one byte a second never times out. The connections of a pool manager that
``keep_deadlines`` prepared read the deadline the calling thread set with ``total_deadline`` (a
context variable): every read waits at most for what is left of it, no connection is opened after
it, and past it a read fails with ``DeadlineExceededError`` (a ``TimeoutError``, which urllib3 and
requests wrap as they wrap their own timeouts; ``no_answer.no_answer_reason`` finds it in the
chain). Without a deadline set, the connections behave as urllib3's own.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import time
from collections.abc import Iterator
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

import requests.adapters
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.poolmanager import pool_classes_by_scheme
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

# (monotonic time it ends, its length in seconds) of the current thread's deadline.
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("http_deadline", default=None)


class DeadlineExceededError(TimeoutError):
    """The server did not answer completely within the total deadline."""


@contextlib.contextmanager
def total_deadline(seconds: float) -> Iterator[None]:
    """Requests made inside end within ``seconds`` from now (or an enclosing, earlier deadline)."""
    ends = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(outer if outer is not None and outer[0] <= ends else (ends, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _left() -> tuple[float, float] | None:
    """Seconds left of the current deadline and its length; None without one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else (deadline[0] - time.monotonic(), deadline[1])


def _exceeded(seconds: float) -> DeadlineExceededError:
    return DeadlineExceededError(f"no complete answer within {seconds:g}s")


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each waiting at most for the socket's own timeout and what is left of
    the deadline."""

    def __init__(self, sock: socket.socket, ends: float, seconds: float) -> None:
        super().__init__()
        self._sock, self._ends, self._seconds = sock, ends, seconds
        self._raw = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def readinto(self, buffer: Any) -> int | None:
        left = self._ends - time.monotonic()
        if left <= 0:
            raise _exceeded(self._seconds)
        per_read = self._sock.gettimeout()
        self._sock.settimeout(left if per_read is None else min(per_read, left))
        try:
            return self._raw.readinto(buffer)
        except TimeoutError as error:
            if time.monotonic() >= self._ends:
                raise _exceeded(self._seconds) from error
            raise
        finally:
            with contextlib.suppress(OSError):  # closed meanwhile
                self._sock.settimeout(per_read)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading status line, headers and body through a deadline."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        deadline = _DEADLINE.get()
        if deadline is not None:
            plain = self.fp
            self.fp = io.BufferedReader(_DeadlineReader(sock, *deadline))
            plain.close()


class DeadlineHTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse

    def connect(self) -> None:
        left = _left()
        if left is not None:
            seconds, length = left
            if seconds <= 0:
                raise _exceeded(length)
            if not isinstance(self.timeout, int | float) or self.timeout > seconds:
                self.timeout = seconds
        super().connect()


class DeadlineHTTPSConnection(DeadlineHTTPConnection, HTTPSConnection):
    pass


class _DeadlinePool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class _DeadlineTLSPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


def keep_deadlines(manager: PoolManager) -> bool:
    """Make the pools ``manager`` creates from now on keep deadlines. False, and nothing done,
    for a manager with pools of its own kind (a SOCKS proxy's)."""
    if manager.pool_classes_by_scheme != pool_classes_by_scheme:
        return False
    manager.pool_classes_by_scheme = {"http": _DeadlinePool, "https": _DeadlineTLSPool}
    return True


class DeadlineRetry(Retry):
    """urllib3's retries, except one that would start (after its backoff) past the deadline:
    that ends the request with the last error, as running out of retries does."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        left = _left()
        if left is not None and retry.get_backoff_time() >= left[0]:
            reason = error or ResponseError(ResponseError.GENERIC_ERROR)
            raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        return retry


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, with pools that keep the deadline ``total_deadline`` sets."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        keep_deadlines(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        keep_deadlines(manager)
        return manager
