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
    Prometheus servers, set it to their scrape interval: see docs/prometheus-backends.md.)

Staleness markers come through remote write and are honoured as Prometheus does, so a series
that goes away stops at the same instant in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slokeeper.localcluster.processes import ServerProcess, free_port

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

    def __post_init__(self) -> None:
        self._server = ServerProcess("VictoriaMetrics", self.log_file, f"{self.url}/health")

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
        self._server.start(
            [
                str(self.binary),
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.workdir / 'data'}",
                f"-retentionPeriod={self.retention}",
                *PROMETHEUS_ALIGNED_FLAGS,
                # A test server beside many others: keep its caches small.
                "-memory.allowedBytes=256MiB",
            ]
        )
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> VictoriaMetricsServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
