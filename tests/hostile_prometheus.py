"""A fake Prometheus that misbehaves as a test asks: it answers every request with a body of
``huge_bytes`` (sent in chunks until the client stops reading, counting what it sent), with a
valid answer trickled one byte a second (``trickle``), or with an error that echoes the request's
Authorization header back, as some proxies do; or, given an ``answer``, with that JSON. Requests
that mention a text given to ``hold`` (in their path or parameters) are accepted and left
unanswered until ``release``: a Prometheus that never answers, for a loop to stall on."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from polling import eventually

CHUNK = b"x" * (64 * 1024)


@dataclass
class HostilePrometheus:
    huge_bytes: int = 0  # 0: answer with the echoing error instead
    content_length: bool = False  # whether the huge answer says its length up front
    error_status: int = 400
    answer: dict[str, Any] | None = None
    trickle: bool = False  # a valid empty answer, one byte a second
    # Per huge answer: the bytes sent before the client stopped reading (or all of them).
    sent: list[int] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    params: list[list[tuple[str, str]]] = field(default_factory=list)
    held: int = 0  # requests waiting, unanswered, for release
    _holding: str | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._answer(self, [])

            def do_POST(self) -> None:
                form = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                fake._answer(self, parse_qsl(form, keep_blank_values=True))

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HostilePrometheus:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def counted(self, answers: int = 1) -> list[int]:
        """What the huge answers sent, once ``answers`` of them have been counted: each handler
        counts on its own (daemon) thread after the client closed, which shutting the server
        down does not wait for."""
        return eventually(
            lambda: list(self.sent),
            lambda sent: len(sent) >= answers,
            f"{answers} huge answer(s) counted by the server",
            timeout=30,
        )

    def hold(self, text: str = "") -> None:
        """From now on, leave every request that mentions ``text`` (any: "") unanswered."""
        with self._lock:
            self._holding = text
            self._released = threading.Event()  # those held before stay released

    def release(self) -> None:
        """Answer the held requests, and hold no more."""
        with self._lock:
            self._holding = None
            self._released.set()

    def _held(self, mentions: str) -> None:
        """Wait for ``release`` if ``mentions`` holds the text being held (at most 10 minutes:
        a server thread never outlives a test by much)."""
        with self._lock:
            if self._holding is None or self._holding not in mentions:
                return
            self.held += 1
            released = self._released
        released.wait(timeout=600)
        with self._lock:
            self.held -= 1

    def _answer(self, handler: BaseHTTPRequestHandler, form: list[tuple[str, str]]) -> None:
        authorization = handler.headers.get("Authorization", "")
        params = parse_qsl(urlsplit(handler.path).query, keep_blank_values=True) + form
        with self._lock:
            self.authorizations.append(authorization)
            self.params.append(params)
        self._held(" ".join([handler.path, *(value for _, value in params)]))
        if self.huge_bytes:
            self._huge(handler)
            return
        if self.trickle:
            self._trickle(handler)
            return
        status = self.error_status if self.answer is None else 200
        body = json.dumps(
            self.answer
            or {
                "status": "error",
                "errorType": "bad_data",
                "error": f"invalid credentials in request header Authorization: {authorization}",
            }
        ).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _huge(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if self.content_length:
            handler.send_header("Content-Length", str(self.huge_bytes))
        else:
            handler.send_header("Connection", "close")  # the body ends when the server closes
        handler.end_headers()
        sent = 0
        try:
            while sent < self.huge_bytes:
                part = CHUNK[: self.huge_bytes - sent]
                handler.wfile.write(part)
                sent += len(part)
        except OSError:  # the client stopped reading and closed the connection
            pass
        finally:
            handler.close_connection = True
            with self._lock:
                self.sent.append(sent)

    def _trickle(self, handler: BaseHTTPRequestHandler) -> None:
        """Headers at once, then the body a byte a second: every read gets its byte well within
        any per-read timeout; only a total deadline ends it."""
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}})
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for byte in body.encode():
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(1.0)
        except OSError:  # the client gave up and closed the connection
            pass
        finally:
            handler.close_connection = True
