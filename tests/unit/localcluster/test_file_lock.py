"""held_exclusively: another process cannot take the lock until its holder lets go."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slokeeper.localcluster.file_lock import held_exclusively

# flock locks belong to open files, so the question is asked from a process of its own.
TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(1)
"""


def _taken_elsewhere(lock_file: Path) -> bool:
    tried = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(lock_file)], timeout=30, check=False
    )
    return tried.returncode == 1


def test_the_lock_is_held_inside_and_released_after(tmp_path: Path) -> None:
    lock_file = tmp_path / "made" / "here.lock"
    with held_exclusively(lock_file):
        assert lock_file.is_file()
        assert _taken_elsewhere(lock_file)
    assert not _taken_elsewhere(lock_file)


def test_an_error_inside_releases_the_lock(tmp_path: Path) -> None:
    lock_file = tmp_path / "here.lock"
    with pytest.raises(RuntimeError), held_exclusively(lock_file):
        raise RuntimeError("inside")
    assert not _taken_elsewhere(lock_file)
