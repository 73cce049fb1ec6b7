"""A real Prometheus server on a free loopback port, with a scrape configuration we own.

Tests and the demo add scrape jobs and rule files at run time; ``configure`` rewrites the
configuration file and asks Prometheus to reload it (``--web.enable-lifecycle``).
"""

from __future__ import annotations

import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slokeeper.localcluster.processes import ServerProcess, StartError, free_port


@dataclass(frozen=True)
class ScrapeJob:
    """One static scrape job; ``honor_labels`` keeps the target's namespace/pod labels."""

    name: str
    targets: tuple[str, ...]
    honor_labels: bool = True
    metrics_path: str = "/metrics"

    def as_config(self) -> dict[str, Any]:
        return {
            "job_name": self.name,
            "honor_labels": self.honor_labels,
            "metrics_path": self.metrics_path,
            "static_configs": [{"targets": list(self.targets)}],
        }


@dataclass
class PrometheusServer:
    """One Prometheus process. Use as a context manager, or call start() and stop()."""

    binary: Path
    workdir: Path
    scrape_interval: str = "2s"
    evaluation_interval: str = "2s"
    port: int = field(default_factory=free_port)
    jobs: list[ScrapeJob] = field(default_factory=list)
    rule_files: list[Path] = field(default_factory=list)
    # Where to send every sample (scraped and recorded) as well, e.g. a VictoriaMetrics server.
    remote_write_urls: list[str] = field(default_factory=list)
    # Alertmanagers (host:port) that receive the firing alerts.
    alertmanagers: list[str] = field(default_factory=list)
    # Scrape configurations beyond static jobs (e.g. Kubernetes service discovery), as written.
    discovery_jobs: list[dict[str, Any]] = field(default_factory=list)
    # Where it listens, the command that runs it there (e.g. inside a network namespace) and the
    # URL that reaches it from here: by default 127.0.0.1:<port>, started directly.
    listen_address: str | None = None
    launcher: tuple[str, ...] = ()
    reached_at: str | None = None
    # How long samples are kept: a day is plenty for tests; the demo's backfilled month needs more
    # (blocks that end more than this before the newest block are deleted when they are loaded).
    retention: str = "1d"
    # Until /-/ready answers: thousands of rule groups take a loaded machine longer to load.
    startup_timeout: float = 30.0

    def __post_init__(self) -> None:
        self._server = ServerProcess("Prometheus", self.log_file, f"{self.url}/-/ready")
        self._changing = threading.RLock()

    @contextmanager
    def changes(self) -> Iterator[None]:
        """Holds off every other change and reload (from other threads) meanwhile: a reload
        that globs the rule directory while files in it are removed fails ("loading groups
        failed ... no such file or directory")."""
        with self._changing:
            yield

    @property
    def url(self) -> str:
        return self.reached_at or f"http://127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.workdir / "prometheus.yml"

    @property
    def log_file(self) -> Path:
        return self.workdir / "prometheus.log"

    def _write_config(self) -> None:
        config = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
            },
            "rule_files": [str(path) for path in self.rule_files],
            "scrape_configs": [job.as_config() for job in self.jobs] + self.discovery_jobs,
        }
        if self.remote_write_urls:
            config["remote_write"] = [{"url": url} for url in self.remote_write_urls]
        if self.alertmanagers:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": list(self.alertmanagers)}]}]
            }
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False))

    def start(self) -> PrometheusServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        listen = self.listen_address or f"127.0.0.1:{self.port}"
        self._server.start(
            [
                *self.launcher,
                str(self.binary),
                f"--config.file={self.config_file}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address={listen}",
                "--web.enable-lifecycle",
                f"--storage.tsdb.retention.time={self.retention}",
            ],
            timeout=self.startup_timeout,
        )
        return self

    def configure(
        self, jobs: list[ScrapeJob] | None = None, rule_files: list[Path] | None = None
    ) -> None:
        """Replace the scrape jobs and/or rule files and reload; raises if Prometheus refuses."""
        with self.changes():
            if jobs is not None:
                self.jobs = list(jobs)
            if rule_files is not None:
                self.rule_files = list(rule_files)
            self._write_config()
            request = urllib.request.Request(f"{self.url}/-/reload", method="POST")
            try:
                # Thousands of rule files take Prometheus a while to parse.
                with urllib.request.urlopen(request, timeout=120):
                    pass
            except urllib.error.HTTPError as error:
                said = error.read().decode(errors="replace")
                raise StartError(f"Prometheus refused its new configuration: {said}") from error

    def add_job(self, job: ScrapeJob) -> None:
        """Scrape one more target (replacing a job of the same name) and reload."""
        self.configure(jobs=[*(j for j in self.jobs if j.name != job.name), job])

    def remove_job(self, name: str) -> None:
        self.configure(jobs=[job for job in self.jobs if job.name != name])

    def load_blocks(self, blocks: Path, retention: str) -> None:
        """Move TSDB blocks (e.g. promtool's backfill) into the data directory and restart, keeping
        samples for ``retention``. A running Prometheus would find new blocks only at its next
        block reload, up to a minute later; a restart serves them at once."""
        self.stop()
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        for block in sorted(blocks.iterdir()):
            shutil.move(block, data / block.name)
        self.retention = retention
        self.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
