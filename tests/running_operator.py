"""Runs `slokeeper run` as its own process for a test, and stops it with its log tail shown."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.processes import free_port


@dataclass(frozen=True)
class RunningOperator:
    process: subprocess.Popen[bytes]
    metrics_url: str
    health_url: str
    log: Path


@contextmanager
def running_operator(
    kubeconfig: Path,
    prometheus_url: str,
    log: Path,
    *,
    interval: str = "3s",
    namespaces: tuple[str, ...] = (),
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[RunningOperator]:
    """``namespaces`` (kopf patterns such as ``test-*``) keeps operators of different tests off
    each other's resources."""
    metrics_port, health_port = free_port(), free_port()
    args = (
        "--bind-address", "127.0.0.1",
        "--metrics-port", str(metrics_port),
        "--health-port", str(health_port),
        *[arg for pattern in namespaces for arg in ("-n", pattern)],
        *extra_args,
    )  # fmt: skip
    process: subprocess.Popen[bytes] | None = None
    try:
        with operator_process(
            kubeconfig, prometheus_url, log, interval=interval, args=args, env=env
        ) as process:
            yield RunningOperator(
                process,
                f"http://127.0.0.1:{metrics_port}/metrics",
                f"http://127.0.0.1:{health_port}/healthz",
                log,
            )
    finally:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        code = process.returncode if process is not None else "not started"
        print(f"\n--- operator log tail (exit {code}) ---\n{tail}")
