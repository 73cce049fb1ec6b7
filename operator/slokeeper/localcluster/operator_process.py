"""`slokeeper run` as its own process against a local control plane: how the demo, the tests and
the benchmarks run the operator, as a Pod would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from slokeeper.localcluster.processes import background_process


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
    command = [
        sys.executable, "-m", "slokeeper.cli.main", "run",
        "--kubeconfig", str(kubeconfig),
        "--prometheus-url", prometheus_url,
        "--interval", interval,
        *args,
    ]  # fmt: skip
    with background_process(command, log, env) as process:
        yield process
