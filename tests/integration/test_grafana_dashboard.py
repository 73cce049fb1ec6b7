"""User story: the dashboard an SRE imports shows data, not "parse error" boxes: every query in
it (panels and variables, with the variables filled in as Grafana would) is accepted by the real
Prometheus."""

from __future__ import annotations

import json
import re

import requests

from slokeeper.cli.dashboard import dashboard
from slokeeper.localcluster.prometheus import PrometheusServer

GRAFANA_VARIABLES = {
    "$namespace": "shop|payments",
    "$slo": "checkout-availability",
    "$__rate_interval": "1m",
}


def as_grafana_sends_it(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a variable Grafana would not fill: {expr}"
    return expr


def every_query() -> list[str]:
    board = dashboard()
    queries = [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(SELECTOR, label): Grafana sends SELECTOR to the series API.
            match = re.fullmatch(r"label_values\((.*), *\w+\)", variable["definition"])
            assert match, variable["definition"]
            queries.append(match.group(1))
    return queries


def test_every_query_of_the_dashboard_parses_in_prometheus(prometheus: PrometheusServer) -> None:
    rejected = {}
    for expr in every_query():
        answer = requests.post(
            f"{prometheus.url}/api/v1/query", data={"query": as_grafana_sends_it(expr)}, timeout=10
        )
        body = answer.json()
        if body.get("status") != "success":
            rejected[expr] = body.get("error")
    assert not rejected, json.dumps(rejected, indent=2)
    assert len(every_query()) >= 10
