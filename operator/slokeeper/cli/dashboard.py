"""``slokeeper dashboard``: the Grafana dashboard, one per install, templated by namespace and SLO.

It reads the operator's own metrics (budget left, burn rate per window with the thresholds at
which each alert fires, rollout phases, analyses) and Prometheus' ALERTS series for the rules
slokeeper wrote. The chart ships it as a ConfigMap for Grafana's dashboard sidecar.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SLO_SELECTOR = 'namespace=~"$namespace", slo=~"$slo"'


def _target(expr: str, legend: str, ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _panel(
    panel_id: int,
    title: str,
    kind: str,
    grid: tuple[int, int, int, int],
    targets: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "id": panel_id,
        "title": title,
        "type": kind,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        **extra,
    }


def _budget_thresholds() -> dict[str, Any]:
    return {
        "mode": "absolute",
        "steps": [
            {"color": "red", "value": None},
            {"color": "orange", "value": 0},
            {"color": "green", "value": 0.25},
        ],
    }


def _variable(name: str, label: str, query: str, *, multi: bool) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": name},
        "definition": query,
        "refresh": 2,
        "multi": multi,
        "includeAll": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "sort": 1,
    }


def _slo_panels() -> list[dict[str, Any]]:
    """Budget left (now and over time), burn rate against the alert thresholds, firing alerts."""
    budget = f"slokeeper_slo_error_budget_remaining_ratio{{{SLO_SELECTOR}}}"
    return [
        _panel(
            1, "Error budget left", "stat", (0, 0, 8, 8),
            [_target(budget, "{{namespace}}/{{slo}}")],
            fieldConfig={"defaults": {"unit": "percentunit", "thresholds": _budget_thresholds()}},
            options={"colorMode": "background", "reduceOptions": {"calcs": ["lastNotNull"]}},
        ),
        _panel(
            2, "Error budget left over time", "timeseries", (8, 0, 16, 8),
            [_target(budget, "{{namespace}}/{{slo}}")],
            fieldConfig={"defaults": {"unit": "percentunit", "thresholds": _budget_thresholds(),
                                      "custom": {"thresholdsStyle": {"mode": "line"}}}},
        ),
        _panel(
            3, "Burn rate of $slo against its alert thresholds", "timeseries", (0, 8, 24, 9),
            [
                _target(f"slokeeper_slo_burn_rate{{{SLO_SELECTOR}}}", "burn rate over {{window}}"),
                _target(
                    f"slokeeper_slo_burn_rate_threshold{{{SLO_SELECTOR}}}",
                    "{{severity}} fires above (over {{window}})", "B",
                ),
            ],
            repeat="slo", repeatDirection="v",
            fieldConfig={
                "defaults": {"unit": "x", "min": 0},
                "overrides": [{
                    "matcher": {"id": "byFrameRefID", "options": "B"},
                    "properties": [{"id": "custom.lineStyle",
                                    "value": {"fill": "dash", "dash": [10, 10]}}],
                }],
            },
        ),
        _panel(
            4, "Firing burn-rate alerts", "table", (0, 17, 12, 8),
            [{**_target(
                'ALERTS{alertstate="firing", slo_namespace=~"$namespace", slo=~"$slo"}', ""
            ), "format": "table", "instant": True}],
        ),
    ]  # fmt: skip


def _rollout_and_operator_panels() -> list[dict[str, Any]]:
    """Rollout phases, canary analyses by outcome, and the operator's own cycle and problems."""
    return [
        _panel(
            5, "Rollout phase", "state-timeline", (12, 17, 12, 8),
            [_target(
                "max by (namespace, rollout, phase) "
                '(slokeeper_rollout_phase{namespace=~"$namespace"} == 1)',
                "{{namespace}}/{{rollout}} {{phase}}",
            )],
        ),
        _panel(
            6, "Canary analyses by outcome", "timeseries", (0, 25, 12, 8),
            [_target(
                "sum by (outcome) (increase(slokeeper_rollout_analyses_total[$__rate_interval]))",
                "{{outcome}}",
            )],
        ),
        _panel(
            7, "Operator: evaluation cycle and problems", "timeseries", (12, 25, 12, 8),
            [
                _target(
                    "histogram_quantile(0.99, sum by (le) "
                    "(rate(slokeeper_slo_cycle_duration_seconds_bucket[$__rate_interval])))",
                    "cycle p99 (s)",
                ),
                _target("sum by (reason) (slokeeper_slo_problems)", "SLOs with {{reason}}", "B"),
            ],
        ),
    ]  # fmt: skip


def _templating() -> dict[str, Any]:
    """The Prometheus data source, then namespace and SLO (both multi-valued, "All" by default)."""
    return {
        "list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource",
             "query": "prometheus", "current": {}},
            _variable("namespace", "Namespace",
                      "label_values(slokeeper_slo_error_budget_remaining_ratio, namespace)",
                      multi=True),
            _variable("slo", "SLO",
                      "label_values(slokeeper_slo_error_budget_remaining_ratio"
                      '{namespace=~"$namespace"}, slo)', multi=True),
        ]
    }  # fmt: skip


def dashboard() -> dict[str, Any]:
    return {
        "uid": "slokeeper-slos",
        "title": "slokeeper: SLOs, error budgets and rollouts",
        "tags": ["slo", "slokeeper"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "templating": _templating(),
        "panels": [*_slo_panels(), *_rollout_and_operator_panels()],
    }


def rendered() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("dashboard", help="print (or write) the Grafana dashboard JSON")
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.output:
        args.output.write_text(rendered())
    else:
        print(rendered(), end="")
    return 0
