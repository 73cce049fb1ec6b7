"""`slokeeper run` as its own process for a benchmark, as an operator Pod would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import IO


def start_operator(
    kubeconfig: Path, prometheus_url: str, interval: str, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "slokeeper.cli.main", "run",
            "--kubeconfig", str(kubeconfig), "--prometheus-url", prometheus_url,
            "--interval", interval, "--metrics-port", "0", "--health-port", "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
