"""User story: the README's demo command runs the operator on its own local environment, promotes
a good canary and rolls a failing one back, showing each as it goes, and cleans up after itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_promotes_a_canary_rolls_a_bad_one_back_and_stops() -> None:
    began = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "demo", "--exit-when-done"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
        check=False,
    )
    seconds = time.monotonic() - began
    out = finished.stdout
    assert finished.returncode == 0, out + finished.stderr
    assert "export KUBECONFIG=" in out
    assert "Prometheus: http://127.0.0.1:" in out
    assert "checkout-availability" in out
    shown = out.split("checkout=shop/checkout:1.2")[1].split("checkout=shop/checkout:1.3-bad")[0]
    assert "step 3, canary 50% of pods (planned 50%)" in shown, shown
    assert "Succeeded" in shown, shown
    assert "1.2: Promoted after 3 steps. 1.3-bad: RolledBack (AnalysisFailed) in step 1" in out
    print(f"demo took {seconds:.0f}s")  # for the record; speed targets live in bench/
    kubeconfig = out.split("export KUBECONFIG=")[1].split()[0]
    # Stopped: its work directory and cluster are gone.
    assert not Path(kubeconfig).exists()
