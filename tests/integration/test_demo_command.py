"""User story: the README's demo command runs the operator on its own local environment, promotes
a good canary and rolls a failing one back, showing each as it goes, writes each SLO's budget
report, and cleans up after itself. Pointed at an existing cluster (--kubeconfig), it tells the
same story there and leaves the cluster as it found it, but for the CRDs. With --real-node it
tells it on real pods serving real requests (root needed, and it says so)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integration.test_report_command import ALLOWED, WINDOW, budget_implied, tolerance
from slokeeper.cli.demo_history import Ledger, demo_plan
from slokeeper.cli.main import main
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.profiles import BAD

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SLOS = ("checkout-availability", "checkout-latency", "checkout-monthly")


def demo(*args: str) -> tuple[str, float]:
    began = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "demo", "--exit-when-done", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ), check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout, time.monotonic() - began


def assert_reports(out: str, directory: Path) -> None:
    assert f"Budget reports (slokeeper report NAME) in {directory.resolve()}" in out
    for name in SAMPLE_SLOS:
        png = directory / f"default_{name}.png"
        assert png.stat().st_size > 30_000, f"{png} is missing or near empty"
        assert (directory / f"default_{name}.html").is_file()
        assert f"default_{name}.html: " in out


BACKFILLED = re.compile(r"Backfilled (\d+) days of checkout traffic up to (\S+ \S+) UTC")
# The most pods the simulator serves at once in the demo (4 stable, a canary of up to as many),
# each at its default 10 requests/s.
LIVE_REQUESTS_PER_SECOND = 8 * 10


def assert_a_month(out: str, directory: Path) -> None:
    """The availability report covers the whole 28-day window of the backfilled history, shows
    the bad deploy's fall, and ends at the budget the made-up traffic implies, give or take what
    the demo's live minutes (a failing canary included) can have spent."""
    found = BACKFILLED.search(out)
    assert found, out
    end = datetime.strptime(found[2], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    plan = demo_plan(end, int(found[1]))
    ledger = Ledger(plan)
    figures = json.loads((directory / "default_checkout-availability.json").read_text())
    points = [(datetime.fromisoformat(p["time"]), p["ratio"]) for p in figures["budgetPoints"]]
    assert points[-1][0] - points[0][0] >= WINDOW - timedelta(seconds=1), points[0]
    bad_deploy = plan.episodes[0]
    before = max((p for p in points if p[0] <= bad_deploy.start), key=lambda p: p[0])
    after = min((p for p in points if p[0] >= bad_deploy.end), key=lambda p: p[0])
    implied_fall = budget_implied(ledger, before[0]) - budget_implied(ledger, after[0])
    assert implied_fall > 0.15, "the made-up incident is one an SRE sees"
    assert before[1] - after[1] >= implied_fall - 2 * tolerance(ledger, plan, after[0])
    at = datetime.fromisoformat(figures["evaluatedAt"])
    live_requests = (at - plan.end).total_seconds() * LIVE_REQUESTS_PER_SECOND
    served = ledger.between(at - WINDOW, at)
    live = BAD.error_ratio * live_requests / (ALLOWED * served.requests)
    left = figures["errorBudgetRemainingRatio"]
    assert abs(left - budget_implied(ledger, at)) <= tolerance(ledger, plan, at) + live, (
        left, budget_implied(ledger, at), tolerance(ledger, plan, at), live,
    )  # fmt: skip
    # What the demo printed is the picture's last figure.
    assert f"default_checkout-availability.html: {100 * points[-1][1]:.1f} % of" in out


def test_the_demo_promotes_a_canary_rolls_a_bad_one_back_and_stops(tmp_path: Path) -> None:
    out, seconds = demo("--report-dir", str(tmp_path / "reports"))
    assert "export KUBECONFIG=" in out
    assert "Prometheus: http://127.0.0.1:" in out
    assert "checkout-availability" in out
    shown = out.split("checkout=shop/checkout:1.2")[1].split("checkout=shop/checkout:1.3-bad")[0]
    assert "step 3, canary 50% of pods (planned 50%)" in shown, shown
    assert "Succeeded" in shown, shown
    assert "1.2: Promoted after 3 steps. 1.3-bad: RolledBack (AnalysisFailed) in step 1" in out
    assert_reports(out, tmp_path / "reports")
    assert_a_month(out, tmp_path / "reports")
    print(f"demo took {seconds:.0f}s")  # for the record; speed targets live in bench/
    kubeconfig = out.split("export KUBECONFIG=")[1].split()[0]
    # Stopped: its work directory and cluster are gone.
    assert not Path(kubeconfig).exists()


@pytest.fixture
def another_cluster(toolchain: Toolchain, tmp_path: Path) -> LocalCluster:
    """Stands in for a real cluster: nothing of the demo's own environment, just a kubeconfig."""
    with LocalCluster(toolchain, tmp_path / "elsewhere", nodes=2) as cluster:
        yield cluster


def test_the_demo_runs_on_an_existing_cluster_and_leaves_it_clean(
    another_cluster: LocalCluster, tmp_path: Path
) -> None:
    out, _ = demo("--kubeconfig", str(another_cluster.kubeconfig), "--report-dir", str(tmp_path))
    assert "$ kubectl set env deployment/checkout VERSION=1.3-bad" in out
    assert "1.2: Promoted after 3 steps. 1.3-bad: RolledBack (AnalysisFailed) in step 1" in out
    assert_reports(out, tmp_path)
    left = another_cluster.kubectl("get", "deployments,changerollouts,slo", "-A", "-o", "name")
    assert left.stdout.strip() == "", f"the demo left objects behind: {left.stdout}"
    crds = another_cluster.kubectl("get", "crd", "-o", "name").stdout
    assert "changerollouts.slokeeper.dev" in crds


def test_the_real_node_demo_says_it_needs_root(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["demo", "--real-node"]) == 2
    said = capsys.readouterr().err
    assert "slokeeper demo --real-node needs root" in said, said
    assert "or run `slokeeper demo` without --real-node" in said, said
