"""User story: an SRE asks for a picture of an SLO's budget to put in a postmortem or a review.
`slokeeper report` draws the budget over the window and the burn rate of each alert window with
the thresholds, from the real Prometheus, and its figures are the ones in the SLO's status."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy
from kubernetes import client
from matplotlib import image

from polling import eventually
from resources import apply, availability_slo, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.demo_backfill import backfill_month
from slokeeper.cli.demo_history import HistoryPlan, Ledger
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.simulator.server import TrafficSimulator
from workloads import deploy_ready


def report_figures(
    cluster: LocalCluster, prometheus: PrometheusServer, namespace: str, output: Path, points: int
) -> dict[str, Any]:
    """Run the report; the figures it wrote."""
    done = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "report", "checkout-availability",
         "-n", namespace, "--kubeconfig", str(cluster.kubeconfig),
         "--prometheus-url", prometheus.url, "--output-dir", str(output), "--points", str(points)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(
        (output / f"{namespace}_checkout-availability.json").read_text()
    )
    return figures


def report(
    cluster: LocalCluster, prometheus: PrometheusServer, namespace: str, output: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the report; the figures it wrote and the status as it is afterwards."""
    figures = report_figures(cluster, prometheus, namespace, output, 12)
    return figures, read_status(cluster, "slo", namespace, "checkout-availability")


def test_report_draws_the_budget_and_agrees_with_the_status(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
    tmp_path: Path,
) -> None:
    deploy_ready(cluster, client.AppsV1Api(api_client), namespace, 3, "shop/checkout:1.1")
    apply(cluster, availability_slo(namespace))
    eventually(
        lambda: read_status(cluster, "slo", namespace, "checkout-availability"),
        lambda s: (
            ready_condition(s).get("status") == "True"
            and s.get("errorBudgetRemainingRatio") is not None
        ),
        "budget figures in the SLO's status",
        timeout=90,
    )
    # A picture worth looking at: the recording rules have produced some history.
    recorded = f'count_over_time(slokeeper_slo_error_ratio{{slo_namespace="{namespace}"}}[5m])'
    eventually(
        lambda: PrometheusClient(prometheus.url).query(recorded),
        lambda samples: bool(samples) and min(s.value for s in samples) >= 15,
        "half a minute of recorded error ratios",
        timeout=120,
    )
    # The status may be rewritten while the report runs; a report is compared with the status
    # it was drawn from.
    figures, status = eventually(
        lambda: report(cluster, prometheus, namespace, tmp_path),
        lambda seen: seen[0]["evaluatedAt"] == seen[1]["lastEvaluationTime"].replace("Z", "+00:00"),
        "a report drawn from the current status",
    )
    assert figures["errorBudgetRemainingRatio"] == status["errorBudgetRemainingRatio"]
    assert figures["sliRatio"] == status["sliRatio"]
    assert figures["burnRates"] == status["burnRates"]
    points = figures["budgetPoints"]
    assert len(points) >= 6, f"the budget over the recorded history: {points}"
    assert abs(points[-1]["ratio"] - status["errorBudgetRemainingRatio"]) < 0.05
    assert {t["severity"] for t in figures["thresholds"]} == {"page", "ticket"}

    png = tmp_path / f"{namespace}_checkout-availability.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 30_000, f"a near-empty picture: {png.stat().st_size} bytes"
    pixels = image.imread(str(png))
    height, width = pixels.shape[:2]
    assert (width, height) == (1210, 880)
    colours = numpy.unique(pixels.reshape(-1, pixels.shape[2]), axis=0)
    assert len(colours) > 100, f"only {len(colours)} colours: lines and text are missing"

    page = (tmp_path / f"{namespace}_checkout-availability.html").read_text()
    assert "data:image/png;base64," in page
    assert f"{100 * status['errorBudgetRemainingRatio']:.1f} %" in page


WINDOW = timedelta(days=28)
ALLOWED = 0.001  # 99.9 %


def budget_implied(
    ledger: Ledger, at: datetime, start_shift: float = 0, end_shift: float = 0
) -> float:
    """The budget left at ``at`` that the generated traffic implies: its error ratio over the
    28 days before (edges moved by the given minutes) against the allowed 0.1 %."""
    served = ledger.between(
        at - WINDOW + timedelta(minutes=start_shift), at + timedelta(minutes=end_shift)
    )
    return 1 - served.errors / served.requests / ALLOWED


def tolerance(ledger: Ledger, plan: HistoryPlan, at: datetime) -> float:
    """How far the operator's figure may honestly be from ``budget_implied``, from the data:
    it sums hourly recorded ratios (each taken at a rule evaluation up to 5 minutes before the
    hour), so either edge of its window may sit an hour and 5 minutes off; each hour's rate() is
    extrapolated from one-minute samples, up to a sample's share of the hour on what was spent;
    and figures are rounded to three digits."""
    nominal = budget_implied(ledger, at)
    edges = max(
        abs(budget_implied(ledger, at, start, end) - nominal)
        for start in (-65, 0, 65)
        for end in (-65, 0)
    )
    extrapolation = plan.step_seconds / 3600 * abs(1 - nominal)
    return edges + extrapolation + 0.0005


def test_a_month_of_history_shows_its_incident_and_the_budget_its_traffic_leaves(
    cluster: LocalCluster,
    crds_installed: Path,
    toolchain: Toolchain,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    """The demo's backfilled history (raw counters and recorded series, through promtool) in a
    Prometheus of its own, read by `slokeeper report` as of now (no operator watches the
    namespace, so the SLO has no status): a picture of the whole window whose every point is
    the budget the generated traffic implies, incident included."""
    slo = availability_slo(solo_namespace)
    apply(cluster, slo)
    objective = ServiceLevelObjective.model_validate(slo).to_objective()
    with PrometheusServer(toolchain.prometheus, tmp_path / "prometheus") as history:
        backfill = backfill_month(
            history, toolchain.promtool, [objective], tmp_path, datetime.now(UTC),
            namespace=solo_namespace,
        )  # fmt: skip
        figures = report_figures(cluster, history, solo_namespace, tmp_path / "report", 169)
    print(backfill.summary())
    plan, ledger = backfill.plan, Ledger(backfill.plan)
    points = [(datetime.fromisoformat(p["time"]), p["ratio"]) for p in figures["budgetPoints"]]
    # The whole window: it starts where Prometheus first has data in it, to the second.
    assert points[-1][0] - points[0][0] >= WINDOW - timedelta(seconds=1), points[0]
    assert len(points) == 169, "every point had figures: the history is continuous"
    off = [
        (at, seen, budget_implied(ledger, at), tolerance(ledger, plan, at))
        for at, seen in points
        if abs(seen - budget_implied(ledger, at)) > tolerance(ledger, plan, at)
    ]
    assert not off, f"points off what the traffic implies (time, seen, implied, tolerance): {off}"
    worst = max(abs(seen - budget_implied(ledger, at)) for at, seen in points)
    print(f"budget points within {worst:.4f} of what the traffic implies")  # for the record
    now = datetime.fromisoformat(figures["evaluatedAt"])
    assert abs(figures["errorBudgetRemainingRatio"] - budget_implied(ledger, now)) <= tolerance(
        ledger, plan, now
    )
    # The bad deploy's fall, between the last point before it and the first after it.
    bad_deploy = plan.episodes[0]
    before = max((p for p in points if p[0] <= bad_deploy.start), key=lambda p: p[0])
    after = min((p for p in points if p[0] >= bad_deploy.end), key=lambda p: p[0])
    implied_fall = budget_implied(ledger, before[0]) - budget_implied(ledger, after[0])
    assert implied_fall > 0.15, "the made-up incident is one an SRE sees"
    assert before[1] - after[1] >= implied_fall - 2 * tolerance(ledger, plan, after[0])
    page = (tmp_path / "report" / f"{solo_namespace}_checkout-availability.html").read_text()
    assert f"{100 * figures['errorBudgetRemainingRatio']:.1f} %" in page
    png = tmp_path / "report" / f"{solo_namespace}_checkout-availability.png"
    assert png.stat().st_size > 30_000, f"a near-empty picture: {png.stat().st_size} bytes"
