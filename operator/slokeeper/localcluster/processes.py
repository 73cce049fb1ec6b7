"""Small process helpers the local control plane shares: free ports, waiting, log tails."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path


class StartError(RuntimeError):
    """A component did not come up in time; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that it does not exist."""
    if not path.is_file():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def wait_until(
    what: str, probe: Callable[[], str | None], timeout: float, interval: float = 0.2
) -> None:
    """Poll ``probe`` until it returns None (ready) or the deadline passes.

    ``probe`` returns a description of what it saw while not ready; the last one goes into the
    error so a timeout says more than "timed out".
    """
    deadline = time.monotonic() + timeout
    seen = "nothing yet"
    while time.monotonic() < deadline:
        outcome = probe()
        if outcome is None:
            return
        seen = outcome
        time.sleep(interval)
    raise StartError(f"{what} not ready after {timeout:.0f}s; last seen: {seen}")
