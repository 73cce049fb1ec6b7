"""Two real nodes may run at once (a test session and the demo): the fixed host paths the
kubelet, libcni and the shim write to are removed by the last node to stop, never under a node
still running, and only those the first node found absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slokeeper.localcluster.realnode import host_state


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    made, kept = tmp_path / "var-lib-cni", tmp_path / "run-containerd"
    kept.mkdir()  # there before any node: never removed
    monkeypatch.setattr(host_state, "FIXED_HOST_PATHS", (made, kept))
    monkeypatch.setattr(host_state, "SHARED_STATE", tmp_path / "shared")
    return made, kept


def test_the_last_node_to_stop_removes_what_the_first_made(host: tuple[Path, Path]) -> None:
    made, kept = host
    first, second = f"slk-{os.getpid()}-aaaa", f"slk-{os.getpid()}-bbbb"
    host_state.claim_host_paths(first)
    made.mkdir()  # the kubelet writes it
    host_state.claim_host_paths(second)
    host_state.release_host_paths(first)
    assert made.exists(), "removed under a node still running"
    host_state.release_host_paths(second)
    assert not made.exists()
    assert kept.exists()
    assert not host_state.SHARED_STATE.exists(), "the record outlived the last node"


def test_a_node_whose_process_died_does_not_hold_the_paths(host: tuple[Path, Path]) -> None:
    made, _ = host
    dead = "slk-999999999-dead"  # no such PID
    host_state.claim_host_paths(dead)
    made.mkdir()
    mine = f"slk-{os.getpid()}-cccc"
    host_state.claim_host_paths(mine)
    host_state.release_host_paths(mine)
    assert not made.exists()
