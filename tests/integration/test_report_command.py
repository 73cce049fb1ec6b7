"""User story: an SRE asks for a picture of an SLO's budget to put in a postmortem or a review.
`slokeeper report` draws the budget over the window and the burn rate of each alert window with
the thresholds, from the real Prometheus, and its figures are the ones in the SLO's status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy
from kubernetes import client
from matplotlib import image

from polling import eventually
from resources import apply, availability_slo, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.simulator.server import TrafficSimulator
from workloads import deploy_ready


def report(
    cluster: LocalCluster, prometheus: PrometheusServer, namespace: str, output: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the report; the figures it wrote and the status as it is afterwards."""
    done = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "report", "checkout-availability",
         "-n", namespace, "--kubeconfig", str(cluster.kubeconfig),
         "--prometheus-url", prometheus.url, "--output-dir", str(output), "--points", "12"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads((output / f"{namespace}_checkout-availability.json").read_text())
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
