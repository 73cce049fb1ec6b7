"""A real VictoriaMetrics single-node server on a free loopback port: a Prometheus-compatible
query API that sits in front of Prometheus' data.

The local Prometheus remote-writes everything it has (scraped series and its recording rules'
results) to ``remote_write_url``; the operator and the CLI then query ``url`` exactly as they
query Prometheus.

Flags are chosen so that a query at a given instant sees what Prometheus sees at that instant;
VictoriaMetrics' defaults differ in three ways that would move SLO figures:

``-search.latencyOffset=0s``
    By default an instant query whose ``time`` lies within the last 30 s is silently evaluated
    as of 30 s ago (samples that recent may still be on their way). The operator pins every
    query of an evaluation to one instant and ``slokeeper report`` reads again at that instant,
    so the shift would make the two disagree. (Per query, ``latency_offset=1ms`` does the same;
    VictoriaMetrics refuses 0 there.)
``-search.maxLookback=5m``
    Prometheus' ``--query.lookback-delta``: an instant selector sees the newest sample of the
    last 5 minutes. VictoriaMetrics otherwise derives the look-back from the samples' spacing,
    and inside a subquery (``sum_over_time(x[28d:1h])``) from the subquery's step, so a series
    that stopped 20 minutes before an hour boundary would count there for it, not for Prometheus.
``-dedup.minScrapeInterval=0s``
    One Prometheus writes each series once, so there is nothing to deduplicate; thinning
    samples to one per interval would drop samples Prometheus keeps. (Behind an HA pair of
    Prometheus servers, set it to their scrape interval: see README, "Scale-out query backends".)

Staleness markers come through remote write and are honoured as Prometheus does, so a series
that goes away stops at the same instant in both.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from slokeeper.localcluster.processes import StartError, free_port, log_tail, wait_until

# The flags that make VictoriaMetrics answer as Prometheus does at the same instant (see above).
PROMETHEUS_ALIGNED_FLAGS = (
    "-search.latencyOffset=0s",
    "-search.maxLookback=5m",
    "-dedup.minScrapeInterval=0s",
)


@dataclass
class VictoriaMetricsServer:
    """One victoria-metrics process. Use as a context manager, or call start() and stop()."""

    binary: Path
    workdir: Path
    port: int = field(default_factory=free_port)
    retention: str = "1d"  # the shortest VictoriaMetrics accepts
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The Prometheus-compatible query API (``/api/v1/query`` …) is served at the root."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def remote_write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    @property
    def log_file(self) -> Path:
        return self.workdir / "victoria-metrics.log"

    def start(self) -> VictoriaMetricsServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    str(self.binary),
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.workdir / 'data'}",
                    f"-retentionPeriod={self.retention}",
                    *PROMETHEUS_ALIGNED_FLAGS,
                    # A test server beside many others: keep its caches small.
                    "-memory.allowedBytes=256MiB",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until("VictoriaMetrics /health", self._ready, timeout=30)
        except StartError as error:
            self.stop()
            raise StartError(
                f"{error}\n--- victoria-metrics log ---\n{log_tail(self.log_file)}"
            ) from error
        return self

    def _ready(self) -> str | None:
        if self._process is not None and self._process.poll() is not None:
            code = self._process.returncode
            raise StartError(f"VictoriaMetrics exited with code {code}:\n{log_tail(self.log_file)}")
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return None if response.status == 200 else f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            return str(error)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None

    def __enter__(self) -> VictoriaMetricsServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
