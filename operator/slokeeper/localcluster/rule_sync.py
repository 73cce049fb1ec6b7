"""Carries rules from the cluster into the local Prometheus, as a rule loader sidecar would.

ConfigMaps labelled ``slokeeper.dev/rules=true`` become files in Prometheus' rule directory; when
the set of files changes, Prometheus is reloaded. (In a real cluster the prometheus-operator does
this for PrometheusRule objects, or a sidecar for ConfigMaps.)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client

from slokeeper.localcluster.prometheus import PrometheusServer

log = logging.getLogger(__name__)
RULES_SELECTOR = "slokeeper.dev/rules=true"


@dataclass
class RuleSync:
    api: client.ApiClient
    prometheus: PrometheusServer
    poll_seconds: float = 1.0
    reloads: int = 0
    _files: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def directory(self) -> Path:
        return self.prometheus.workdir / "rules"

    def sync_once(self) -> bool:
        """Mirror the labelled ConfigMaps now; True when Prometheus was reloaded."""
        core = client.CoreV1Api(self.api)
        wanted: dict[str, str] = {}
        for configmap in core.list_config_map_for_all_namespaces(
            label_selector=RULES_SELECTOR
        ).items:
            meta = configmap.metadata
            if meta is None:
                continue
            for key, text in (configmap.data or {}).items():
                wanted[f"{meta.namespace}_{meta.name}_{key}"] = text
        if wanted == self._files:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.prometheus.changes():  # no reload (a test's add_job) sees files half-changed
            for name in set(self._files) - set(wanted):
                (self.directory / name).unlink(missing_ok=True)
            for name, text in wanted.items():
                if self._files.get(name) != text:
                    (self.directory / name).write_text(text)
            self._files = wanted
            self.prometheus.configure(rule_files=[self.directory / "*"])
        self.reloads += 1
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.sync_once()
            except Exception as error:
                log.warning("rule sync failed: %s", error)

    def start(self) -> RuleSync:
        self.sync_once()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rule-sync")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
