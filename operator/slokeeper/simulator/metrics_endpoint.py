"""A scrape target for tests and benchmarks: Prometheus' text format, rendered per request.

The traffic simulator serves its pods' counters through it; tests and benchmarks serve series of
their own making (a tenant's exporter forging series, synthetic traffic counters).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def metrics_endpoint(render: Callable[[str], str]) -> Iterator[str]:
    """Serve ``render(path)`` for every GET on a free loopback port; yields ``host:port``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = render(self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics-endpoint").start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
