"""The peers (Flagger, Argo Rollouts) are found under directories keyed by their pinned versions,
and a cached build is trusted only with its marker; then neither ensure_peers nor peers.sh
builds anything."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from slokeeper.localcluster.peers import PEERS_FILE, PEERS_SCRIPT, ensure_peers, peer_paths
from slokeeper.localcluster.toolchain import pinned_versions


def _fake_build(root: Path) -> None:
    peers = peer_paths(root)
    for binary in (peers.flagger, peers.rollouts_controller):
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text("")
        (binary.parent / ".complete").write_text("2026-12-01T00:00:00Z\n")


def test_one_file_pins_both_peers() -> None:
    versions = pinned_versions(PEERS_FILE)
    assert versions["FLAGGER_VERSION"] == "v1.36.1"
    assert versions["ARGO_ROLLOUTS_VERSION"] == "v1.10.2"
    assert versions["ARGO_ROLLOUTS_GOTOOLCHAIN"].startswith("go1.")


def test_binaries_and_crds_live_in_a_directory_per_version(tmp_path: Path) -> None:
    peers = peer_paths(tmp_path)
    assert peers.flagger == tmp_path / "flagger-v1.36.1" / "flagger"
    assert peers.flagger_crds == tmp_path / "flagger-v1.36.1" / "crd.yaml"
    assert peers.rollouts_controller == tmp_path / "argo-rollouts-v1.10.2" / "rollouts-controller"
    assert peers.argo_rollouts_crds == tmp_path / "argo-rollouts-v1.10.2" / "crds"
    assert not peers.complete


def test_a_binary_without_its_marker_is_not_trusted(tmp_path: Path) -> None:
    peers = peer_paths(tmp_path)
    peers.flagger.parent.mkdir(parents=True)
    peers.flagger.write_text("")
    peers.rollouts_controller.parent.mkdir(parents=True)
    peers.rollouts_controller.write_text("")
    (peers.flagger_dir / ".complete").write_text("")
    assert not peers.complete, "Argo Rollouts has no .complete marker, yet counts as built"


def test_a_cached_build_is_found_without_building(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    began = time.monotonic()
    assert ensure_peers(tmp_path) == peer_paths(tmp_path)
    assert time.monotonic() - began < 1


def test_the_script_skips_cached_peers(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    ran = subprocess.run(
        ["bash", str(PEERS_SCRIPT)],
        env={**os.environ, "SLOKEEPER_CACHE": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "flagger v1.36.1 cached" in ran.stdout
    assert "argo-rollouts v1.10.2 cached" in ran.stdout
    printed = subprocess.run(
        ["bash", str(PEERS_SCRIPT), "--print-dir"],
        env={**os.environ, "SLOKEEPER_CACHE": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.strip() == str(tmp_path)
