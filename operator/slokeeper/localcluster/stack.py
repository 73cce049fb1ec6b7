"""The whole local environment: the Kubernetes control plane and Prometheus, started together,
with rules from the cluster carried into Prometheus.

Used by the pytest session fixture and by ``slokeeper demo``; ``stop`` always stops everything
that was started, even when a later component failed to come up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import ExistingCluster, LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.rule_sync import RuleSync
from slokeeper.localcluster.toolchain import Toolchain, ensure_toolchain


@dataclass
class LocalStack:
    """Control plane + Prometheus under one work directory."""

    workdir: Path
    nodes: int = 2
    scrape_interval: str = "2s"
    rule_sync_seconds: float = 1.0
    toolchain: Toolchain | None = None
    kubeconfig: Path | None = None  # an existing cluster to use instead of starting one
    cluster: LocalCluster | None = None
    prometheus: PrometheusServer | None = None
    rule_sync: RuleSync | None = None
    startup_seconds: dict[str, float] = field(default_factory=dict)

    def start(self) -> LocalStack:
        began = time.monotonic()
        self.toolchain = self.toolchain or ensure_toolchain()
        self.startup_seconds["toolchain"] = time.monotonic() - began
        try:
            step = time.monotonic()
            self.cluster = (
                ExistingCluster(self.toolchain, self.workdir, existing_kubeconfig=self.kubeconfig)
                if self.kubeconfig
                else LocalCluster(self.toolchain, self.workdir / "cluster", nodes=self.nodes)
            )
            self.cluster.start()
            self.startup_seconds["cluster"] = time.monotonic() - step
            step = time.monotonic()
            self.prometheus = PrometheusServer(
                self.toolchain.prometheus,
                self.workdir / "prometheus",
                scrape_interval=self.scrape_interval,
                evaluation_interval=self.scrape_interval,
            )
            self.prometheus.start()
            self.rule_sync = RuleSync(
                api_client(str(self.cluster.kubeconfig)),
                self.prometheus,
                poll_seconds=self.rule_sync_seconds,
            )

            self.rule_sync.start()
            self.startup_seconds["prometheus"] = time.monotonic() - step
        except BaseException:
            self.stop()
            raise
        self.startup_seconds["total"] = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.rule_sync is not None:
            self.rule_sync.stop()
        if self.prometheus is not None:
            self.prometheus.stop()
        if self.cluster is not None:
            self.cluster.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
