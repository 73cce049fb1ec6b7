"""The server answers with its version's behaviour and counts what it answered, as Prometheus
reads it; probes and the load generator behave as the kubelet and the demo need."""

from __future__ import annotations

import threading
import urllib.request
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from slokeeper.demoapp.behaviour import BUCKETS, behaviour_from
from slokeeper.demoapp.load import LoadGenerator, fetch
from slokeeper.demoapp.server import DemoApp, http_server


def _samples(app: DemoApp) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    page = app.metrics().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def _quiet_app(**environment: str) -> tuple[DemoApp, list[float]]:
    slept: list[float] = []
    return DemoApp(behaviour_from(environment), sleep=slept.append), slept


def test_it_serves_the_configured_error_ratio_and_counts_by_code() -> None:
    app, _ = _quiet_app(ERROR_RATIO="0.2", VERSION="2.0")
    codes = Counter(app.respond("/")[0] for _ in range(1000))
    assert codes == {200: 800, 500: 200}
    samples = _samples(app)
    assert samples[("http_requests_total", (("code", "200"),))] == 800
    assert samples[("http_requests_total", (("code", "500"),))] == 200
    assert samples[("demoapp_build_info", (("profile", "healthy"), ("version", "2.0")))] == 1


def test_the_body_names_the_version_and_the_outcome() -> None:
    app, _ = _quiet_app(ERROR_RATIO="1", VERSION="3.1")
    assert app.respond("/?user=1") == (500, "text/plain", b"failed: version 3.1\n")


def test_the_histogram_has_the_simulators_buckets_and_counts_every_request() -> None:
    app, slept = _quiet_app(PROFILE="slow")
    for _ in range(50):
        app.respond("/")
    samples = _samples(app)
    bounds = [
        labels[0][1] for (name, labels) in samples if name == "http_request_duration_seconds_bucket"
    ]
    assert bounds == [str(b) for b in BUCKETS] + ["+Inf"]
    assert samples[("http_request_duration_seconds_count", ())] == 50
    assert len(slept) == 50
    assert max(slept) > 0.25  # five times slower than healthy: its tail passes 250 ms


@pytest.mark.parametrize(
    ("path", "code", "body"),
    [("/healthz", 200, b"ok\n"), ("/readyz", 200, b"ready\n"), ("/nowhere", 404, b"not found\n")],
)
def test_probes_and_unknown_paths(path: str, code: int, body: bytes) -> None:
    app, _ = _quiet_app()
    assert app.respond(path)[0::2] == (code, body)


def test_a_stopping_server_is_no_longer_ready() -> None:
    app, _ = _quiet_app()
    app.ready = False
    assert app.respond("/readyz")[0] == 503
    assert app.respond("/healthz")[0] == 200


def test_over_http_the_load_generator_sees_the_error_ratio_the_server_counts() -> None:
    app, _ = _quiet_app(ERROR_RATIO="0.25")
    server = http_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        counts = LoadGenerator(url, rate=200).run(seconds=0.5)
        with urllib.request.urlopen(url + "metrics") as response:
            page = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    total = counts["200"] + counts["500"]
    assert total >= 80
    assert counts["500"] == total // 4
    assert f'http_requests_total{{code="500"}} {float(counts["500"])}' in page


def test_a_request_nobody_answers_counts_as_an_error() -> None:
    assert fetch("http://127.0.0.1:1/", timeout=1) == "error"


def test_the_load_generator_keeps_its_rate_whatever_the_answers() -> None:
    now = [100.0]
    generator = LoadGenerator(
        "http://x/", rate=20, fetch=lambda _u, _t: "200", clock=lambda: now[0]
    )
    assert generator.due(100.0, 100.0) == 1
    assert generator.due(100.0, 101.0) == 21
    assert generator.due(100.0, 99.0) == 0
