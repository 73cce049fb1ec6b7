"""User story: the README's demo command brings the whole local environment up on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_starts_the_control_plane_applies_the_samples_and_stops() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "demo", "--exit-after-start"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "export KUBECONFIG=" in finished.stdout
    assert "Prometheus: http://127.0.0.1:" in finished.stdout
    assert "checkout-availability" in finished.stdout
    kubeconfig = finished.stdout.split("export KUBECONFIG=")[1].split()[0]
    # Stopped: its work directory and cluster are gone.
    assert not Path(kubeconfig).exists()
