"""A stub of Prometheus' query API on a loopback port, recording what each request carried."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class StubPrometheus:
    url: str
    # Per request: its path, its query-string parameters and its Authorization header.
    requests: list[tuple[str, list[tuple[str, str]], str]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    @property
    def params(self) -> list[list[tuple[str, str]]]:
        return [params for _, params, _ in self.requests]

    @property
    def authorizations(self) -> list[str]:
        return [authorization for _, _, authorization in self.requests]


@pytest.fixture
def stub_prometheus() -> Iterator[StubPrometheus]:
    """Answers every query with an empty result."""
    seen: list[tuple[str, list[tuple[str, str]], str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            params = parse_qsl(url.query, keep_blank_values=True)
            seen.append((url.path, params, self.headers.get("Authorization", "")))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            result_type = "matrix" if url.path.endswith("query_range") else "vector"
            body = json.dumps(
                {"status": "success", "data": {"resultType": result_type, "result": []}}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield StubPrometheus(f"http://127.0.0.1:{server.server_address[1]}", seen)
    server.shutdown()
