"""One process at a time, across the test workers and sessions sharing this machine."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held_exclusively(lock_file: Path) -> Iterator[None]:
    """Waits for, then holds, an exclusive lock on ``lock_file`` (made with its directory if
    missing). Closing the file releases it, so a process that dies lets the next one in."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
