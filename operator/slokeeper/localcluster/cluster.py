"""A Kubernetes control plane from real binaries: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok (fake nodes whose Pods become Running and Ready), started by kwokctl's
binary runtime with the binaries we built, on random loopback ports.

Each cluster has a unique name (``slokeeper-<pid>-<suffix>``) and its own kubeconfig, so several
test sessions on one machine never share a cluster; clusters left behind by a dead process are
deleted when the next one starts.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from slokeeper.localcluster.file_lock import held_exclusively
from slokeeper.localcluster.processes import StartError, log_tail, wait_until
from slokeeper.localcluster.toolchain import Toolchain

KWOK_HOME = Path.home() / ".kwok" / "clusters"
NAME_PATTERN = re.compile(r"^slokeeper-(\d+)-[0-9a-f]+$")
# kwokctl binds every component to 0.0.0.0 by default; tests and the demo need loopback only.
KWOKCTL_CONFIGURATION = """\
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
"""
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
)


class KubectlError(RuntimeError):
    """kubectl failed; the message holds the command and what kubectl said."""


@contextmanager
def _one_creation_at_a_time() -> Iterator[None]:
    """kwokctl picks its components' ports by trying them, so two clusters created at the same
    moment (two test workers starting) can pick the same ones: one fails with "address already
    in use". Creations take turns (a few seconds each) under a lock beside the clusters; closing
    the file releases it."""
    with held_exclusively(KWOK_HOME / ".slokeeper-create.lock"):
        yield


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LocalCluster:
    """One kwokctl cluster. Use as a context manager, or call start() and stop()."""

    toolchain: Toolchain
    workdir: Path
    nodes: int = 2
    # An audit policy (YAML) makes the API server log requests to ``audit_log``: how the RBAC
    # test sees every call the operator makes.
    audit_policy: str | None = None
    name: str = field(default_factory=lambda: f"slokeeper-{os.getpid()}-{secrets.token_hex(3)}")

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def cluster_dir(self) -> Path:
        return KWOK_HOME / self.name

    @property
    def audit_log(self) -> Path:
        return self.cluster_dir / "logs" / "audit.log"

    def _environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        environment["PATH"] = f"{self.toolchain.kubernetes_dir}{os.pathsep}{environment['PATH']}"
        environment["KWOK_KUBE_VERSION"] = self.toolchain.kubernetes_version
        environment["KWOK_KUBECTL_BINARY"] = str(self.toolchain.kubectl)
        return environment

    def _kwokctl(self, *arguments: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.toolchain.kwokctl), "--name", self.name, *arguments],
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def kubectl(
        self,
        *arguments: str,
        timeout: float = 60,
        check: bool = True,
        input_text: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this cluster; with ``check``, fail with its stderr."""
        finished = subprocess.run(
            [str(self.toolchain.kubectl), "--kubeconfig", str(self.kubeconfig), *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input_text,
        )
        if check and finished.returncode != 0:
            raise KubectlError(
                f"kubectl {' '.join(arguments)} exited {finished.returncode}: "
                f"{finished.stderr.strip() or finished.stdout.strip()}"
            )
        return finished

    def component_logs(self, lines: int = 40) -> str:
        parts = []
        for component in COMPONENTS:
            parts.append(f"--- {component} (last {lines} lines) ---")
            parts.append(log_tail(self.cluster_dir / "logs" / f"{component}.log", lines))
        return "\n".join(parts)

    def start(self) -> LocalCluster:
        delete_orphaned_clusters(self.toolchain)
        self.workdir.mkdir(parents=True, exist_ok=True)
        configuration = self.workdir / "kwokctl.yaml"
        configuration.write_text(KWOKCTL_CONFIGURATION)
        kube = self.toolchain.kubernetes_dir
        audit: list[str] = []
        if self.audit_policy is not None:
            policy = self.workdir / "audit-policy.yaml"
            policy.write_text(self.audit_policy)
            audit = ["--kube-audit-policy", str(policy)]
        with _one_creation_at_a_time():
            created = self._kwokctl(
                "--config", str(configuration),
                "create", "cluster", *audit,
                "--runtime", "binary",
                "--kubeconfig", str(self.kubeconfig),
                "--kube-apiserver-binary", str(kube / "kube-apiserver"),
                "--kube-controller-manager-binary", str(kube / "kube-controller-manager"),
                "--kube-scheduler-binary", str(kube / "kube-scheduler"),
                "--etcd-binary", str(self.toolchain.etcd),
                "--kwok-controller-binary", str(self.toolchain.kwok),
                "--wait", "2m",
            )  # fmt: skip
        if created.returncode != 0:
            logs = self.component_logs()
            self.stop()
            raise StartError(
                f"kwokctl create cluster {self.name} failed ({created.returncode}):\n"
                f"{created.stdout}{created.stderr}\n{logs}"
            )
        try:
            self._add_nodes()
            self._wait_ready()
        except (StartError, KubectlError, subprocess.SubprocessError) as error:
            logs = self.component_logs()
            self.stop()
            raise StartError(f"{error}\n{logs}") from error
        return self

    def _add_nodes(self) -> None:
        scaled = self._kwokctl("scale", "node", "--replicas", str(self.nodes))
        if scaled.returncode != 0:
            raise StartError(f"kwokctl scale node failed: {scaled.stdout}{scaled.stderr}")

    def _ready_nodes(self) -> str | None:
        listed = self.kubectl("get", "nodes", "-o", "json", check=False)
        if listed.returncode != 0:
            return listed.stderr.strip()
        ready = [
            item["metadata"]["name"]
            for item in json.loads(listed.stdout)["items"]
            if any(
                condition["type"] == "Ready" and condition["status"] == "True"
                for condition in item.get("status", {}).get("conditions", [])
            )
        ]
        if len(ready) >= self.nodes:
            return None
        return f"{len(ready)} of {self.nodes} nodes Ready: {ready}"

    def _default_service_account(self) -> str | None:
        # Pods cannot be created in a namespace until the controller manager made its
        # "default" ServiceAccount, so a cluster without it is not ready for tests yet.
        found = self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False)
        return None if found.returncode == 0 else found.stderr.strip()

    def _wait_ready(self) -> None:
        wait_until("kube-apiserver /readyz", self._readyz, timeout=60)
        wait_until(f"{self.nodes} kwok nodes", self._ready_nodes, timeout=60)
        wait_until("the default ServiceAccount", self._default_service_account, timeout=60)

    def _readyz(self) -> str | None:
        probed = self.kubectl("get", "--raw", "/readyz", check=False)
        return (
            None
            if probed.returncode == 0 and probed.stdout.strip() == "ok"
            else (probed.stdout + probed.stderr).strip()[-300:]
        )

    def stop(self) -> None:
        deleted = self._kwokctl("delete", "cluster", timeout=60)
        if deleted.returncode != 0 and self.cluster_dir.exists():
            print(f"kwokctl delete cluster {self.name}: {deleted.stderr}", file=sys.stderr)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass
class ExistingCluster(LocalCluster):
    """A cluster someone else runs (``slokeeper demo --kubeconfig``): used, never started or
    deleted, through the toolchain's kubectl."""

    existing_kubeconfig: Path = field(default_factory=Path)

    @property
    def kubeconfig(self) -> Path:
        return self.existing_kubeconfig

    def start(self) -> ExistingCluster:
        self.kubectl("version")
        return self

    def stop(self) -> None:
        """The cluster is not ours to stop."""


def delete_orphaned_clusters(toolchain: Toolchain) -> list[str]:
    """Delete slokeeper clusters whose creating process is gone (a killed test run)."""
    if not KWOK_HOME.is_dir():
        return []
    deleted = []
    for directory in KWOK_HOME.iterdir():
        match = NAME_PATTERN.match(directory.name)
        if match and not _pid_alive(int(match.group(1))):
            subprocess.run(
                [str(toolchain.kwokctl), "--name", directory.name, "delete", "cluster"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            shutil.rmtree(directory, ignore_errors=True)
            deleted.append(directory.name)
    return deleted
