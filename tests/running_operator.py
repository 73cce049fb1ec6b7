"""Runs `slokeeper run` as its own process for a test, and stops it with its log tail shown."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "slokeeper.cli.main", "run",
                "--kubeconfig", str(kubeconfig),
                "--prometheus-url", prometheus_url,
                "--interval", interval,
                "--bind-address", "127.0.0.1",
                "--metrics-port", str(metrics_port),
                "--health-port", str(health_port),
                *[arg for pattern in namespaces for arg in ("-n", pattern)],
                *extra_args,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
    try:
        yield RunningOperator(
            process,
            f"http://127.0.0.1:{metrics_port}/metrics",
            f"http://127.0.0.1:{health_port}/healthz",
            log,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        exit_code = process.wait()
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        print(f"\n--- operator log tail (exit {exit_code}) ---\n{tail}")
