"""What the operator fixture hands a test: the process and where it serves metrics and health."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class RunningOperator:
    process: subprocess.Popen[bytes]
    metrics_url: str
    health_url: str
