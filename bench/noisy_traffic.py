"""Noisy traffic for the SLO-loop benchmark: many services whose errors arrive at random.

The package's traffic simulator counts errors as an exact share of requests, so an SLO's figures
move smoothly; real errors arrive one at a time, at random. This exporter serves
``http_requests_total{namespace, service, code}`` for ``services`` services at
``requests_per_second`` each; every scrape adds the requests since the previous one and draws the
errors among them from a Poisson distribution (0.1 % on average), except for the few services in
``burning``, which fail ``burning_error_ratio`` of their requests. A 99.9 % SLO over a healthy
service therefore burns at about 1x on average, its 5-minute burn rate jumping with each error.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy

HEALTHY_ERROR_RATIO = 0.001
BURNING_ERROR_RATIO = 0.02  # 20x burn on a 99.9 % SLO: its page alert fires within minutes


def service_name(index: int) -> str:
    return f"svc-{index:05d}"


@dataclass
class NoisyTraffic:
    """Serves the counters on ``address`` (host:port) while used as a context manager."""

    namespace: str
    services: int
    burning: frozenset[int] = frozenset()
    requests_per_second: float = 20.0
    seed: int = 20
    _requests: Any = None
    _errors: Any = None
    _ratios: Any = None
    _last: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._random = numpy.random.default_rng(self.seed)
        self._requests = numpy.zeros(self.services, dtype=numpy.int64)
        self._errors = numpy.zeros(self.services, dtype=numpy.int64)
        self._ratios = numpy.full(self.services, HEALTHY_ERROR_RATIO)
        for index in self.burning:
            self._ratios[index] = BURNING_ERROR_RATIO
        self._last = time.monotonic()

    @property
    def address(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def page(self) -> bytes:
        """Advance every counter to now and render the exposition."""
        with self._lock:
            now = time.monotonic()
            elapsed, self._last = now - self._last, now
            arrived = self._random.poisson(self.requests_per_second * elapsed, self.services)
            failed = self._random.binomial(arrived, self._ratios)
            self._requests += arrived
            self._errors += failed
            requests, errors = self._requests.tolist(), self._errors.tolist()
        prefix = f'http_requests_total{{namespace="{self.namespace}",service="'
        lines = ["# TYPE http_requests_total counter"]
        for index, (total, bad) in enumerate(zip(requests, errors, strict=True)):
            name = service_name(index)
            lines.append(f'{prefix}{name}",code="200"}} {total - bad}')
            lines.append(f'{prefix}{name}",code="500"}} {bad}')
        return ("\n".join(lines) + "\n").encode()

    def __enter__(self) -> NoisyTraffic:
        traffic = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = traffic.page()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
