"""Small process helpers the local control plane shares: free ports, waiting, log tails, and
server processes that are ready when a URL answers."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


class ServerProcess:
    """A server binary run in the background, its output in a log file, ready once a URL
    answers 200; a start that fails or times out raises StartError with the log's tail."""

    def __init__(self, name: str, log_file: Path, ready_url: str) -> None:
        self.name = name
        self.log_file = log_file
        self.ready_url = ready_url
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, command: Sequence[str], timeout: float = 30) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(f"{self.name} {self.ready_url}", self._ready, timeout=timeout)
        except StartError as error:
            self.stop()
            raise StartError(
                f"{error}\n--- {self.name} log ---\n{log_tail(self.log_file)}"
            ) from error

    def _ready(self) -> str | None:
        if self._process is not None and self._process.poll() is not None:
            code = self._process.returncode
            raise StartError(f"{self.name} exited with code {code}:\n{log_tail(self.log_file)}")
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return None if response.status == 200 else f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            return str(error)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None


@contextmanager
def background_process(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command``, its output appended to ``log``; stopped (SIGTERM, then SIGKILL after
    20 s) when the block ends, even if it already exited on its own."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
