"""The Grafana dashboard the chart ships is the one `slokeeper dashboard` prints, and it is a
dashboard Grafana can load: unique panel ids, every query on the chosen Prometheus."""

from __future__ import annotations

import json
from pathlib import Path

from slokeeper.cli.dashboard import dashboard, rendered

CHART_DASHBOARD = Path(__file__).resolve().parents[3] / "charts/slokeeper/dashboards/slokeeper.json"


def test_the_charts_dashboard_is_current() -> None:
    assert CHART_DASHBOARD.read_text() == rendered(), (
        "charts/slokeeper/dashboards/slokeeper.json is stale: run "
        "`slokeeper dashboard -o charts/slokeeper/dashboards/slokeeper.json`"
    )


def test_panels_have_unique_ids_queries_and_the_datasource_variable() -> None:
    board = json.loads(rendered())
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["expr"].strip()
    names = [variable["name"] for variable in board["templating"]["list"]]
    assert names == ["datasource", "namespace", "slo"]


def test_burn_rates_are_drawn_with_the_thresholds_that_page() -> None:
    burn = next(p for p in dashboard()["panels"] if p["title"].startswith("Burn rate"))
    exprs = [target["expr"] for target in burn["targets"]]
    assert any(e.startswith("slokeeper_slo_burn_rate{") for e in exprs)
    assert any(e.startswith("slokeeper_slo_burn_rate_threshold{") for e in exprs)
    assert burn["repeat"] == "slo"
