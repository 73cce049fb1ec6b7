"""User story: an SRE turns on the forecast ticket for two SLOs of a service that fails a steady
20 % of its requests. For the SLO whose budget would run out within the hour-long window at that
rate, Prometheus fires ErrorBudgetExhaustionForecast and its status forecasts exhaustion before
the window ends; for the one whose budget outlasts the window, neither does.

The operator's forecast (status.budgetExhaustion) and Prometheus' alert are computed apart, in
Python from the operator's figures and in PromQL from the recorded series; they must agree.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import yaml
from prometheus_api_client import PrometheusConnect

from polling import eventually
from resources import availability_slo, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.simulator.server import TrafficSimulator
from workloads import checkout_deployment

ERROR_RATIO = 0.2  # the simulator's "-bad" profile, the only pod of the namespace
# Burn rate 0.2 / 0.3 = 0.67 with a third of the budget left: spent in half the window.
RUNS_OUT = ("runs-out", 70.0)
# Burn rate 0.2 / 0.6 = 0.33 with two thirds left: lasts two windows.
OUTLASTS = ("outlasts", 40.0)
FORECAST_WINDOW = "6m"  # the longest long window of the workbook table scaled to 1h


def _slo(namespace: str, name: str, target: float) -> dict[str, Any]:
    slo = availability_slo(namespace, name, target)
    slo["spec"]["window"] = {"rolling": "1h"}
    slo["spec"]["alerting"]["forecast"] = {"enabled": True, "for": "10s"}
    return slo


def _forecast(status: dict[str, Any]) -> dict[str, Any]:
    return next(
        (f for f in status.get("budgetExhaustion", []) if f["window"] == FORECAST_WINDOW), {}
    )


def test_a_steady_burn_tickets_only_the_slo_that_runs_out(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    operator_process: RunningOperator,
    namespace: str,
    simulator: TrafficSimulator,
) -> None:
    manifest = checkout_deployment("checkout", 1, "shop/checkout:1.2-bad", variant="bad")
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=manifest)
    documents = [_slo(namespace, name, target) for name, target in (RUNS_OUT, OUTLASTS)]
    cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(documents))
    connection = PrometheusConnect(url=prometheus.url, disable_ssl=True)

    def forecast_alerts() -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = connection.get_current_metric_value(
            "ALERTS", label_config={"alertname": "ErrorBudgetExhaustionForecast"}
        )
        return [a for a in alerts if a["metric"].get("slo_namespace") == namespace]

    firing = eventually(
        forecast_alerts,
        lambda alerts: any(a["metric"].get("alertstate") == "firing" for a in alerts),
        "Prometheus to fire the forecast ticket",
        timeout=240,
    )
    assert [a["metric"]["slo"] for a in firing] == [RUNS_OUT[0]], firing
    labels = firing[0]["metric"]
    assert labels["severity"] == "warning"
    assert labels["slokeeper_alert"] == "forecast"

    # The notification says how much budget is left and at what rate.
    rendered = eventually(
        lambda: [
            alert
            for alert in requests.get(f"{prometheus.url}/api/v1/alerts", timeout=5).json()["data"][
                "alerts"
            ]
            if alert["labels"].get("alertname") == "ErrorBudgetExhaustionForecast"
            and alert["labels"].get("slo_namespace") == namespace
        ],
        lambda alerts: len(alerts) == 1,
        "the firing forecast alert in /api/v1/alerts",
    )
    description = rendered[0]["annotations"]["description"]
    assert f"the last {FORECAST_WINDOW} (0.6" in description, description
    assert "% of error budget left is spent before a window length from now" in description
    assert rendered[0]["annotations"]["runbook_url"] == "https://runbooks.example.com/checkout"

    # The operator's own forecast agrees, computed apart from the rules.
    def forecasts() -> dict[str, dict[str, Any]]:
        return {
            name: _forecast(read_status(cluster, "slo", namespace, name))
            for name, _ in (RUNS_OUT, OUTLASTS)
        }

    seen = eventually(
        forecasts,
        lambda both: all(both.values()),
        "both SLOs' statuses to forecast at the 6m burn rate",
        timeout=60,
    )
    runs_out, outlasts = seen[RUNS_OUT[0]], seen[OUTLASTS[0]]
    print(f"forecasts: {seen}\nalert description: {description}")
    assert runs_out["beforeWindowEnds"] is True, seen
    assert runs_out["burnRate"] == pytest.approx(ERROR_RATIO / 0.3, rel=0.05)
    # A third of the budget left at 2/3x lasts half the hour.
    assert runs_out["secondsLeft"] == pytest.approx(1800, rel=0.1)
    assert outlasts["beforeWindowEnds"] is False, seen
    assert outlasts["secondsLeft"] == pytest.approx(7200, rel=0.1)

    # And the one that outlasts its window never got so much as a pending forecast.
    assert all(a["metric"]["slo"] == RUNS_OUT[0] for a in forecast_alerts())
    status = read_status(cluster, "slo", namespace, OUTLASTS[0])
    assert ready_condition(status)["status"] == "True"
    assert operator_process.process.poll() is None, "the operator exited"
