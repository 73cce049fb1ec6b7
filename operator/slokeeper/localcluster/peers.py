"""The peers slokeeper is measured against — Flagger and Argo Rollouts — built into the toolchain's
cache and run out of cluster against the local control plane (test and benchmark only).

``toolchain/peers.env`` pins their versions; ``toolchain/peers.sh`` builds them from the Go module
proxy (once; a cached build is found in milliseconds). ``flagger_process`` and
``argo_rollouts_process`` run each controller as its own process with a kubeconfig, as a user
running it outside the cluster would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from slokeeper.localcluster.processes import background_process, free_port
from slokeeper.localcluster.toolchain import (
    TOOLCHAIN_DIR,
    ToolchainError,
    cache_root,
    pinned_versions,
)

PEERS_FILE = TOOLCHAIN_DIR / "peers.env"
PEERS_SCRIPT = TOOLCHAIN_DIR / "peers.sh"


@dataclass(frozen=True)
class Peers:
    """Paths of the peers' binaries and CRDs."""

    flagger_dir: Path
    argo_rollouts_dir: Path
    flagger_version: str
    argo_rollouts_version: str

    @property
    def flagger(self) -> Path:
        return self.flagger_dir / "flagger"

    @property
    def flagger_crds(self) -> Path:
        """Flagger's CRDs (Canary, MetricTemplate, AlertProvider), from its module."""
        return self.flagger_dir / "crd.yaml"

    @property
    def rollouts_controller(self) -> Path:
        return self.argo_rollouts_dir / "rollouts-controller"

    @property
    def argo_rollouts_crds(self) -> Path:
        """A directory of Argo Rollouts' CRDs (Rollout, AnalysisTemplate, AnalysisRun, …)."""
        return self.argo_rollouts_dir / "crds"

    @property
    def complete(self) -> bool:
        return all(
            (directory / ".complete").is_file() and binary.is_file()
            for directory, binary in (
                (self.flagger_dir, self.flagger),
                (self.argo_rollouts_dir, self.rollouts_controller),
            )
        )


def peer_paths(root: Path | None = None) -> Peers:
    """Where the pinned peers are (or will be once built)."""
    root = root or cache_root()
    versions = pinned_versions(PEERS_FILE)
    flagger, argo = versions["FLAGGER_VERSION"], versions["ARGO_ROLLOUTS_VERSION"]
    return Peers(
        flagger_dir=root / f"flagger-{flagger}",
        argo_rollouts_dir=root / f"argo-rollouts-{argo}",
        flagger_version=flagger,
        argo_rollouts_version=argo,
    )


def ensure_peers(root: Path | None = None) -> Peers:
    """The peers, built first if either is missing (progress goes to stderr)."""
    peers = peer_paths(root)
    if peers.complete:
        return peers
    environment = {"SLOKEEPER_CACHE": str(root)} if root is not None else {}
    print(
        f"slokeeper: building Flagger {peers.flagger_version} and Argo Rollouts "
        f"{peers.argo_rollouts_version} into {root or cache_root()} (about 10 minutes the first "
        "time, nothing afterwards; `make setup` builds them before the tests)",
        file=sys.stderr,
        flush=True,
    )
    try:
        subprocess.run(
            ["bash", str(PEERS_SCRIPT)],
            check=True,
            env={**os.environ, **environment},
            stdout=sys.stderr,
        )
    except subprocess.CalledProcessError as error:
        raise ToolchainError(
            f"{PEERS_SCRIPT} failed with exit code {error.returncode}; its output is above. "
            "It needs `go` (1.26+) on PATH and the Go module proxy reachable (Argo Rollouts also "
            "fetches the Go toolchain named in peers.env through it)."
        ) from error
    if not peers.complete:
        raise ToolchainError(f"{PEERS_SCRIPT} finished but the peers in {peers} are incomplete")
    return peers


@contextmanager
def flagger_process(
    peers: Peers, kubeconfig: Path, prometheus_url: str, namespace: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Flagger for ``namespace`` with the Kubernetes provider (blue/green, no mesh)."""
    command = [
        str(peers.flagger),
        f"-kubeconfig={kubeconfig}",
        "-mesh-provider=kubernetes",
        f"-metrics-server={prometheus_url}",
        f"-namespace={namespace}",
        f"-port={free_port()}",
        "-log-level=info",
    ]
    with background_process(command, log) as process:
        yield process


@contextmanager
def argo_rollouts_process(
    peers: Peers, kubeconfig: Path, namespace: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Argo Rollouts' controller for ``namespace``, its metrics and health ports on free ports."""
    command = [
        str(peers.rollouts_controller),
        f"--kubeconfig={kubeconfig}",
        "--namespaced",
        f"--namespace={namespace}",
        f"--metricsPort={free_port()}",
        f"--healthzPort={free_port()}",
        "--leader-elect=false",
        "--loglevel=info",
    ]
    with background_process(command, log, env={"POD_NAMESPACE": namespace}) as process:
        yield process
