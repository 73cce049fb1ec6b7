"""Finds the pinned control-plane binaries in the cache, building the missing ones first.

The versions live in ``toolchain/versions.env`` beside this module; ``toolchain/build.sh`` builds
from the Go module proxy. Both the pytest fixtures and ``slokeeper demo`` call ``ensure_toolchain``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TOOLCHAIN_DIR = Path(__file__).with_name("toolchain")
VERSIONS_FILE = TOOLCHAIN_DIR / "versions.env"
BUILD_SCRIPT = TOOLCHAIN_DIR / "build.sh"


class ToolchainError(RuntimeError):
    """The binaries are missing and could not be built; the message says what to do."""


def pinned_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """KEY=VALUE lines of versions.env (comments and blank lines ignored)."""
    versions: dict[str, str] = {}
    for raw_line in path.read_text().splitlines():
        line = raw_line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            versions[key.strip()] = value.strip()
    return versions


def cache_root() -> Path:
    """Where built binaries are kept across sessions: $SLOKEEPER_CACHE or ~/.cache/slokeeper."""
    configured = os.environ.get("SLOKEEPER_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "slokeeper"


@dataclass(frozen=True)
class Toolchain:
    """Paths of every binary the local control plane runs."""

    kubernetes_dir: Path
    kubernetes_node_dir: Path  # kubelet and kube-proxy, for the real-node cluster
    etcd: Path
    kwok: Path
    kwokctl: Path
    helm: Path
    prometheus: Path
    promtool: Path
    prometheus_operator_crds: Path
    alertmanager: Path
    victoria_metrics: Path
    sloth: Path
    kubernetes_version: str
    prometheus_version: str

    @property
    def kubectl(self) -> Path:
        return self.kubernetes_dir / "kubectl"

    @property
    def kubelet(self) -> Path:
        return self.kubernetes_node_dir / "kubelet"

    @property
    def kube_proxy(self) -> Path:
        return self.kubernetes_node_dir / "kube-proxy"

    @property
    def all_binaries(self) -> tuple[Path, ...]:
        kube = tuple(
            self.kubernetes_dir / name
            for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
        )
        return (
            *kube,
            self.kubelet,
            self.kube_proxy,
            self.etcd,
            self.kwok,
            self.kwokctl,
            self.helm,
            self.prometheus,
            self.promtool,
            self.prometheus_rule_crd,
            self.alertmanager,
            self.victoria_metrics,
            self.sloth,
        )

    @property
    def prometheus_rule_crd(self) -> Path:
        """The real PrometheusRule CRD of the pinned prometheus-operator release."""
        return self.prometheus_operator_crds / "monitoring.coreos.com_prometheusrules.yaml"

    @property
    def complete(self) -> bool:
        component_dirs = {path.parent for path in self.all_binaries}
        return all((directory / ".complete").is_file() for directory in component_dirs) and all(
            path.is_file() for path in self.all_binaries
        )


def toolchain_paths(root: Path | None = None) -> Toolchain:
    """Where the pinned binaries are (or will be once built)."""
    root = root or cache_root()
    versions = pinned_versions()
    kwok_dir = root / f"kwok-{versions['KWOK_VERSION']}"
    prometheus_dir = root / f"prometheus-{versions['PROMETHEUS_VERSION']}"
    return Toolchain(
        kubernetes_dir=root / f"kubernetes-{versions['KUBERNETES_VERSION']}",
        kubernetes_node_dir=root / f"kubernetes-node-{versions['KUBERNETES_VERSION']}",
        etcd=root / f"etcd-{versions['ETCD_VERSION']}" / "etcd",
        kwok=kwok_dir / "kwok",
        kwokctl=kwok_dir / "kwokctl",
        helm=root / f"helm-{versions['HELM_VERSION']}" / "helm",
        prometheus=prometheus_dir / "prometheus",
        promtool=prometheus_dir / "promtool",
        prometheus_operator_crds=root
        / f"prometheus-operator-crds-{versions['PROMETHEUS_OPERATOR_VERSION']}",
        alertmanager=root / f"alertmanager-{versions['ALERTMANAGER_VERSION']}" / "alertmanager",
        victoria_metrics=root
        / f"victoriametrics-{versions['VICTORIAMETRICS_VERSION']}"
        / "victoria-metrics",
        sloth=root / f"sloth-{versions['SLOTH_VERSION']}" / "sloth",
        kubernetes_version=versions["KUBERNETES_VERSION"],
        prometheus_version=versions["PROMETHEUS_VERSION"],
    )


def ensure_toolchain(root: Path | None = None) -> Toolchain:
    """The toolchain, built first if anything is missing (progress goes to stderr)."""
    toolchain = toolchain_paths(root)
    if toolchain.complete:
        return toolchain
    environment = dict(os.environ)
    if root is not None:
        environment["SLOKEEPER_CACHE"] = str(root)
    print(
        "slokeeper: building the local control plane into "
        f"{root or cache_root()} (about 20 minutes the first time, a second afterwards)",
        file=sys.stderr,
        flush=True,
    )
    try:
        subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, env=environment, stdout=sys.stderr)
    except FileNotFoundError as error:
        raise ToolchainError(f"cannot run {BUILD_SCRIPT}: {error}") from error
    except subprocess.CalledProcessError as error:
        raise ToolchainError(
            f"{BUILD_SCRIPT} failed with exit code {error.returncode}; its output is above. "
            "It needs `go` (1.26+) on PATH and the Go module proxy reachable."
        ) from error
    if not toolchain.complete:
        missing = [str(path) for path in toolchain.all_binaries if not path.is_file()]
        raise ToolchainError(f"{BUILD_SCRIPT} finished but these are missing: {missing}")
    return toolchain
