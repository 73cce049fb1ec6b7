"""``slokeeper report SLO``: a picture (PNG, and an HTML page embedding it) of an SLO's error
budget over its window and the burn rate of each alert window against its thresholds, read from
Prometheus, plus the figures as JSON.

The figures in the page and the JSON are read at the status' ``lastEvaluationTime`` through the
operator's own code path, so the report and ``kubectl get slo -o yaml`` agree to the digit; the
picture runs on to now.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.budget_chart import ChartData, ChartsUnavailableError, draw
from slokeeper.cli.prometheus_options import add_prometheus_arguments, prometheus_access
from slokeeper.kube.connection import api_client, default_namespace
from slokeeper.prometheus.client import (
    PrometheusClient,
    PrometheusUnreachableError,
    QueryRejectedError,
)
from slokeeper.prometheus.slo_history import SLOHistory, report_range
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.durations import format_duration
from slokeeper.slo.evaluation import Figures
from slokeeper.slo.objective import Objective, RollingWindow


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report", help="a PNG and HTML report of an SLO's budget and burn rates"
    )
    parser.add_argument("name", help="the ServiceLevelObjective")
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument(
        "--output-dir", type=Path, default=Path(), help="where to write the files (default: .)"
    )
    parser.add_argument(
        "--points", type=int, default=48, help="budget points over the window (default 48)"
    )
    add_prometheus_arguments(parser, default_url="http://localhost:9090")
    parser.set_defaults(run=run)


def _figures_json(figures: Figures, at: datetime) -> dict[str, Any]:
    return {
        "evaluatedAt": at.isoformat(),
        "health": figures.health.value,
        "sliRatio": figures.sli_ratio,
        "errorBudgetRemainingRatio": figures.error_budget_remaining_ratio,
        "burnRates": [{"window": w, "burnRate": r} for w, r in figures.burn_rates],
        "policyAction": figures.policy_action.value if figures.policy_action else None,
    }


def _html(title: str, subtitle: str, png: Path, summary: dict[str, Any]) -> str:
    image = base64.b64encode(png.read_bytes()).decode()
    as_of = datetime.fromisoformat(summary["evaluatedAt"]).astimezone(UTC)
    rows = [
        ("As of", f"{as_of:%Y-%m-%d %H:%M:%S} UTC"),
        ("SLI", "-" if summary["sliRatio"] is None else f"{100 * summary['sliRatio']:.3f} %"),
        (
            "Error budget left",
            "-"
            if summary["errorBudgetRemainingRatio"] is None
            else f"{100 * summary['errorBudgetRemainingRatio']:.1f} %",
        ),
        *((f"Burn rate over {b['window']}", f"{b['burnRate']:g}x") for b in summary["burnRates"]),
        ("Budget policy", summary["policyAction"] or "-"),
    ]
    table = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1250px;margin:2em auto}}
th{{text-align:left;padding-right:2em}}img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>{html.escape(subtitle)}</p>
<table>{table}</table>
<img alt="error budget and burn rates" src="data:image/png;base64,{image}">
</body></html>
"""


def burn_rate_points(start: datetime, end: datetime) -> int:
    """A burn-rate point every ten minutes (an incident of an hour shows as the peak it was, not
    as whichever point happened to fall in it), between 200 and Prometheus' 11,000 a series."""
    return max(200, min(10_000, int((end - start) / timedelta(minutes=10))))


def _objective_text(objective: Objective) -> str:
    window = objective.window
    if isinstance(window, RollingWindow):
        period = f"over a rolling {format_duration(window.seconds)}"
    else:
        period = f"each calendar {window.period.value.lower()} ({window.time_zone})"
    return f"{objective.target_percent:g} % {period}"


class ReportError(RuntimeError):
    """The report cannot be made; the message says why."""


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    files: tuple[Path, ...]


def write_report(
    api: client.ApiClient,
    prometheus: PrometheusClient,
    namespace: str,
    name: str,
    *,
    output_dir: Path,
    points: int = 48,
) -> Report:
    """Read the SLO and Prometheus; write ``<namespace>_<name>.png|.html|.json``."""
    slo = _read_slo(api, namespace, name)
    objective = slo.to_objective()
    now = datetime.now(UTC)
    # The status is rewritten only when its figures change: its time may be well in the past.
    evaluated = slo.status.last_evaluation_time if slo.status else None
    at = evaluated or now
    history = SLOHistory(prometheus)
    try:
        headline = history.figures_at(objective, at)
        window_start = measurement_span(objective.window, now).start
        start = report_range(history.first_data(objective, now), window_start, now)
        budget = history.budget_left(objective, start, now, points)
        burn_rates = history.burn_rates(objective, start, now, burn_rate_points(start, now))
    except (PrometheusUnreachableError, QueryRejectedError) as error:
        raise ReportError(str(error)) from error

    title = f"{namespace}/{name}: {objective.service}, {_objective_text(objective)}"
    latest = budget[-1] if budget else None
    subtitle = (
        f"{100 * latest[1]:.1f} % of the error budget left at {latest[0]:%Y-%m-%d %H:%M} UTC"
        if latest
        else headline.message
    )
    # An SLO without alerts (reporting only) has no thresholds to draw.
    thresholds = history.thresholds(objective) if objective.alerting.enabled else []
    chart = ChartData(
        title, subtitle, start, now, budget, burn_rates, thresholds, objective.budget_policy
    )
    files = _write_files(output_dir, f"{namespace}_{name}", chart, _figures_json(headline, at))
    if evaluated is None:
        subtitle += " (no status yet: figures as of now)"
    return Report(title, subtitle, files)


def _read_slo(api: client.ApiClient, namespace: str, name: str) -> ServiceLevelObjective:
    custom = client.CustomObjectsApi(api)
    try:
        body = custom.get_namespaced_custom_object(
            GROUP, VERSION, namespace, ServiceLevelObjective.plural, name
        )
    except ApiException as error:
        raise ReportError(f"ServiceLevelObjective {namespace}/{name}: {error.reason}") from error
    return ServiceLevelObjective.model_validate(body)


def _write_files(
    output_dir: Path, stem_name: str, chart: ChartData, summary: dict[str, Any]
) -> tuple[Path, Path, Path]:
    """The picture, the page embedding it beside the summary, and the figures as JSON."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = output_dir / stem_name
    png, page, figures_file = (stem.with_suffix(s) for s in (".png", ".html", ".json"))
    try:
        draw(chart, png)
    except ChartsUnavailableError as error:
        raise ReportError(str(error)) from error
    page.write_text(_html(chart.title, chart.subtitle, png, summary))
    figures = {
        **summary,
        "budgetPoints": [{"time": t.isoformat(), "ratio": v} for t, v in chart.budget],
        "thresholds": [t.__dict__ for t in chart.thresholds],
    }
    figures_file.write_text(json.dumps(figures, indent=2) + "\n")
    return png, page, figures_file


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or default_namespace(args.kubeconfig, args.context)
    try:
        report = write_report(
            api_client(args.kubeconfig, args.context),
            prometheus_access(args).client(),
            namespace,
            args.name,
            output_dir=args.output_dir,
            points=args.points,
        )
    except ReportError as error:
        print(f"slokeeper report: {error}", file=sys.stderr)
        return 1
    print(f"{report.title}\n{report.subtitle}")
    for path in report.files:
        print(f"wrote {path}")
    return 0
