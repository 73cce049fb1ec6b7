"""A real Alertmanager on a free loopback port: receives the local Prometheus' alerts and holds
the silences slokeeper makes for maintenance windows.

Its one route sends everything to a receiver that notifies nobody: what matters to the tests and
the demo is what Alertmanager holds (an alert active, or suppressed by a silence), which its API
shows. Gossip clustering is off; this is one instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from slokeeper.localcluster.processes import ServerProcess, free_port


@dataclass
class AlertmanagerServer:
    """One Alertmanager process. Use as a context manager, or call start() and stop()."""

    binary: Path
    workdir: Path
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._server = ServerProcess("Alertmanager", self.log_file, f"{self.url}/-/ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """host:port, as Prometheus' alerting configuration names an Alertmanager."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / "alertmanager.log"

    def start(self) -> AlertmanagerServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    # Alerts reach Alertmanager at once and are kept grouped per SLO and alert.
                    "route": {
                        "receiver": "nobody",
                        "group_by": ["alertname", "slo_namespace", "slo"],
                        "group_wait": "1s",
                    },
                    "receivers": [{"name": "nobody"}],
                }
            )
        )
        self._server.start(
            [
                str(self.binary),
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address={self.address}",
                "--cluster.listen-address=",
            ]
        )
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> AlertmanagerServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
