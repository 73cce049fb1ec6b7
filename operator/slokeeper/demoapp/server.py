"""The demo application's HTTP server: ``GET /`` is the request the SLO is about, ``/metrics``
serves ``http_requests_total{code}`` and ``http_request_duration_seconds``, ``/healthz`` and
``/readyz`` are for the kubelet's probes.

Run: ``python3 -m slokeeper.demoapp.server`` (the image's entrypoint; ``PORT``, default 8080,
and the variables in ``behaviour.py``). SIGTERM ends it at once, cleanly: as PID 1 of a container
it would otherwise ignore SIGTERM and wait out the pod's grace period.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from slokeeper.demoapp.behaviour import BUCKETS, Behaviour, ConfigurationError, behaviour_from


class DemoApp:
    """The application without its socket: answers requests and counts them."""

    def __init__(self, behaviour: Behaviour, sleep: Callable[[float], None] = time.sleep) -> None:
        self.behaviour = behaviour
        self.sleep = sleep
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "Requests served, by status code.",
            ["code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Request latency.",
            buckets=BUCKETS,
            registry=self.registry,
        )
        info = Gauge(
            "demoapp_build_info",
            "The version running, always 1.",
            ["version", "profile"],
            registry=self.registry,
        )
        info.labels(version=behaviour.version, profile=behaviour.profile).set(1)
        self.ready = True
        self._served = 0
        self._lock = threading.Lock()

    def serve(self) -> tuple[int, str]:
        """One request to ``/``: wait its latency, then its status code and body."""
        started = time.monotonic()
        with self._lock:
            number = self._served
            self._served += 1
        self.sleep(self.behaviour.latency(number))
        code = 500 if self.behaviour.fails(number) else 200
        self.requests.labels(code=str(code)).inc()
        self.duration.observe(time.monotonic() - started)
        word = "failed" if code == 500 else "ok"
        return code, f"{word}: version {self.behaviour.version}\n"

    def metrics(self) -> bytes:
        return generate_latest(self.registry)

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of ``path``."""
        route = path.split("?", 1)[0]
        if route == "/":
            code, text = self.serve()
            return code, "text/plain", text.encode()
        if route == "/metrics":
            return 200, CONTENT_TYPE_LATEST, self.metrics()
        if route == "/healthz":
            return 200, "text/plain", b"ok\n"
        if route == "/readyz":
            return (200, "text/plain", b"ready\n") if self.ready else (503, "text/plain", b"no\n")
        return 404, "text/plain", b"not found\n"


def http_server(app: DemoApp, host: str, port: int) -> ThreadingHTTPServer:
    """A threading HTTP server answering with ``app`` (not started)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            code, content_type, body = app.respond(self.path)
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main() -> int:
    try:
        behaviour = behaviour_from(os.environ)
    except ConfigurationError as error:
        print(f"demoapp: {error}", file=sys.stderr)
        return 2
    if behaviour.crash:
        print(f"demoapp: version {behaviour.version} crashes on start (PROFILE=crash)")
        return 1
    app = DemoApp(behaviour)
    server = http_server(app, "0.0.0.0", int(os.environ.get("PORT", "8080")))  # noqa: S104

    def stop(_signal: int, _frame: FrameType | None) -> None:
        app.ready = False
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"demoapp: version {behaviour.version} ({behaviour.profile}, errors "
        f"{behaviour.error_ratio:g}, latency x{behaviour.latency_factor:g}) on port "
        f"{server.server_address[1]}",
        flush=True,
    )
    server.serve_forever()
    server.server_close()
    print("demoapp: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
