"""`slokeeper run` as its own process against a local control plane: how the demo, the tests and
the benchmarks run the operator, as a Pod would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def operator_process(
    kubeconfig: Path,
    prometheus_url: str,
    log: Path,
    *,
    interval: str = "5s",
    args: tuple[str, ...] = ("--metrics-port", "0", "--health-port", "0"),
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the operator, its output appended to ``log``; stopped (SIGTERM, then SIGKILL after
    20 s) when the block ends, even if it already exited on its own."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "slokeeper.cli.main", "run",
                "--kubeconfig", str(kubeconfig),
                "--prometheus-url", prometheus_url,
                "--interval", interval,
                *args,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
