"""Every binary is found under a directory keyed by its pinned version."""

from __future__ import annotations

from pathlib import Path

import pytest

from slokeeper.localcluster.processes import StartError, wait_until
from slokeeper.localcluster.toolchain import pinned_versions, toolchain_paths


def test_one_file_pins_every_component() -> None:
    versions = pinned_versions()
    assert set(versions) >= {
        "KUBERNETES_VERSION",
        "ETCD_VERSION",
        "KWOK_VERSION",
        "HELM_VERSION",
        "PROMETHEUS_VERSION",
        "ALERTMANAGER_VERSION",
        "VICTORIAMETRICS_VERSION",
        "SLOTH_VERSION",
    }
    assert versions["KUBERNETES_VERSION"].startswith("v1.")


def test_binaries_live_in_a_directory_per_version(tmp_path: Path) -> None:
    versions = pinned_versions()
    toolchain = toolchain_paths(tmp_path)
    assert (
        toolchain.kubectl == tmp_path / f"kubernetes-{versions['KUBERNETES_VERSION']}" / "kubectl"
    )
    assert toolchain.etcd.parent.name == f"etcd-{versions['ETCD_VERSION']}"
    assert toolchain.promtool.parent.name == f"prometheus-{versions['PROMETHEUS_VERSION']}"
    assert toolchain.alertmanager.parent.name == f"alertmanager-{versions['ALERTMANAGER_VERSION']}"
    assert toolchain.victoria_metrics.parent.name == (
        f"victoriametrics-{versions['VICTORIAMETRICS_VERSION']}"
    )
    assert toolchain.sloth.parent.name == f"sloth-{versions['SLOTH_VERSION']}"
    assert not toolchain.complete


def test_a_half_built_component_is_not_trusted(tmp_path: Path) -> None:
    toolchain = toolchain_paths(tmp_path)
    for binary in toolchain.all_binaries:
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text("")
    assert not toolchain.complete, "binaries without the .complete marker count as built"
    for binary in toolchain.all_binaries:
        (binary.parent / ".complete").write_text("")
    assert toolchain.complete


def test_a_timeout_says_what_was_last_seen() -> None:
    observations = iter(["1 of 2 nodes Ready"] * 1000)
    with pytest.raises(StartError, match="kwok nodes not ready after 0s; last seen: 1 of 2 nodes"):
        wait_until("kwok nodes", lambda: next(observations), timeout=0.05, interval=0.01)
