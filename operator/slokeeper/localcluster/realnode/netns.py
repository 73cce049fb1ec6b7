"""The real node's network namespace, and processes run inside it.

Nothing in the default network namespace changes: the namespace holds a veth pair whose one end
carries the node IP, and every daemon (etcd, the API server, containerd, kubelet, kube-proxy) runs
inside it through ``nsenter --net`` (``ip netns exec`` remounts /sys, which runc then cannot use).
The API server is reached from the default namespace through a relay listening on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slokeeper.localcluster.processes import log_tail

NETNS_DIR = Path("/var/run/netns")


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass(frozen=True)
class NetworkNamespace:
    name: str

    @property
    def path(self) -> Path:
        return NETNS_DIR / self.name

    def enter(self) -> list[str]:
        """The command prefix that runs a program inside the namespace."""
        return ["nsenter", f"--net={self.path}", "--"]

    def create(self, node_cidr: str) -> None:
        """The namespace, its loopback, and a veth pair carrying ``node_cidr`` (both ends inside:
        a dummy device is not available on this kernel)."""
        _ip("netns", "add", self.name)
        inside = ["ip", "netns", "exec", self.name]
        for command in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "link", "add", "node0", "type", "veth", "peer", "name", "node1"],
            ["ip", "addr", "add", node_cidr, "dev", "node0"],
            ["ip", "link", "set", "node0", "up"],
            ["ip", "link", "set", "node1", "up"],
            # kube-proxy and the kubelet look for a default route to pick the node's address.
            ["ip", "route", "add", "default", "dev", "node0"],
        ):
            done = subprocess.run([*inside, *command], check=False, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} in {self.name}: {done.stderr.strip()}")

    def delete(self) -> None:
        if self.path.exists():
            _ip("netns", "delete", self.name)


@dataclass
class NamespacedProcess:
    """A daemon running inside the namespace, its output in a log file."""

    name: str
    log_file: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, namespace: NetworkNamespace, command: Sequence[str]) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(
                [*namespace.enter(), *command],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_running(self) -> None:
        """Raise with the log's tail if the process has exited."""
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self._process.returncode}:\n"
                f"{log_tail(self.log_file)}"
            )

    def stop(self, grace_seconds: float = 10) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=5)
