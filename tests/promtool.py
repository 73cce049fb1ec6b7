"""Runs the real promtool the toolchain built, and hands back what it said."""

from __future__ import annotations

import subprocess
from pathlib import Path


def promtool(
    binary: Path, *arguments: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``promtool ARGUMENTS…``; the caller asserts on the exit code and shows the output."""
    return subprocess.run(
        [str(binary), *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )
