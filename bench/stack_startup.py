"""Benchmark: how long the local control plane and Prometheus take to start with binaries cached.

The target (issue 2) is under 60 s for the session fixture.
Run: .venv/bin/python bench/stack_startup.py [RUNS]
Prints one line per run and the median, and how long the warm toolchain check takes.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from slokeeper.localcluster.stack import LocalStack
from slokeeper.localcluster.toolchain import BUILD_SCRIPT, ensure_toolchain


def main(runs: int) -> None:
    ensure_toolchain()
    began = time.monotonic()
    subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, capture_output=True)
    print(f"toolchain build script, everything cached: {time.monotonic() - began:.2f}s")
    totals = []
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as workdir, LocalStack(Path(workdir)) as stack:
            figures = stack.startup_seconds
            totals.append(figures["total"])
            print(
                f"run {run}: total {figures['total']:.1f}s = cluster {figures['cluster']:.1f}s "
                f"+ prometheus {figures['prometheus']:.1f}s "
                f"+ toolchain check {figures['toolchain']:.2f}s"
            )
    print(f"median start-up over {runs} runs: {statistics.median(totals):.1f}s (target < 60s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
