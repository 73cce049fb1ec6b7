"""``slokeeper run``: the operator itself. Every flag has an environment variable, which is how
the Helm chart configures it. This module parses them and hands them to the composition root
(``handlers.composition``)."""

from __future__ import annotations

import argparse
import os
from datetime import datetime

from slokeeper.cli.log_format import configure_logging
from slokeeper.cli.prometheus_options import add_prometheus_arguments, prometheus_access
from slokeeper.handlers.composition import OperatorConfig, run_operator
from slokeeper.slo.durations import duration_seconds


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the operator")
    add_prometheus_arguments(parser, default_url="http://prometheus:9090")
    parser.add_argument(
        "--interval",
        default=os.environ.get("SLOKEEPER_INTERVAL", "30s"),
        help="how often every SLO is evaluated (env SLOKEEPER_INTERVAL, default 30s)",
    )
    parser.add_argument(
        "--kubeconfig", default=os.environ.get("KUBECONFIG"), help="kubeconfig file"
    )
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[ns for ns in os.environ.get("SLOKEEPER_NAMESPACES", "").split(",") if ns],
        help="watch only this namespace or glob (repeatable; env SLOKEEPER_NAMESPACES, "
        "comma-separated); default: all namespaces",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("SLOKEEPER_METRICS_PORT", "8080")),
        help="port of the operator's /metrics (0: off; env SLOKEEPER_METRICS_PORT, default 8080)",
    )
    parser.add_argument(
        "--health-port",
        type=int,
        default=int(os.environ.get("SLOKEEPER_HEALTH_PORT", "8081")),
        help="port of /healthz and /readyz (0: off; env SLOKEEPER_HEALTH_PORT, default 8081)",
    )
    parser.add_argument(
        "--bind-address",
        default=os.environ.get("SLOKEEPER_BIND_ADDRESS", "0.0.0.0"),  # noqa: S104 - a Pod's network
        help="address the metrics and health ports listen on (default all, as in a Pod)",
    )
    parser.add_argument(
        "--no-slo-metrics",
        action="store_true",
        default=_flag("SLOKEEPER_NO_SLO_METRICS"),
        help="do not export per-SLO budget and burn-rate gauges, for very many SLOs "
        "(env SLOKEEPER_NO_SLO_METRICS=true)",
    )
    parser.add_argument(
        "--leader-elect",
        action="store_true",
        default=_flag("SLOKEEPER_LEADER_ELECT"),
        help="act only while holding a Lease, so several replicas are safe "
        "(env SLOKEEPER_LEADER_ELECT=true)",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default=os.environ.get("SLOKEEPER_LEADER_ELECTION_NAMESPACE"),
        help="namespace of the Lease (default: the Pod's own, $POD_NAMESPACE)",
    )
    parser.add_argument(
        "--leader-election-id",
        default=os.environ.get("SLOKEEPER_LEADER_ELECTION_ID", "slokeeper"),
        help="name of the Lease (env SLOKEEPER_LEADER_ELECTION_ID, default slokeeper)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("SLOKEEPER_LOG_FORMAT", "text"),
        help="text, or one JSON object per line (env SLOKEEPER_LOG_FORMAT)",
    )
    parser.add_argument(
        "--clock-start",
        type=datetime.fromisoformat,
        default=os.environ.get("SLOKEEPER_CLOCK_START"),
        help=(
            "rehearsal: rollout decisions run on a clock starting at this RFC 3339 time "
            "(to try change windows and freezes); default the real time"
        ),
    )
    parser.add_argument(
        "--alertmanager-url",
        default=os.environ.get("SLOKEEPER_ALERTMANAGER_URL") or None,
        help="Alertmanager whose silences cover SLO maintenance windows "
        "(env SLOKEEPER_ALERTMANAGER_URL; unset: windows are tracked, nothing is silenced)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_format, args.verbose)
    return run_operator(
        OperatorConfig(
            prometheus=prometheus_access(args),
            interval_seconds=duration_seconds(args.interval),
            kubeconfig=args.kubeconfig,
            namespaces=tuple(args.namespace),
            metrics_port=args.metrics_port,
            health_port=args.health_port,
            bind_address=args.bind_address,
            per_slo_metrics=not args.no_slo_metrics,
            leader_elect=args.leader_elect,
            leader_election_namespace=args.leader_election_namespace,
            leader_election_id=args.leader_election_id,
            clock_start=args.clock_start,
            alertmanager_url=args.alertmanager_url,
        )
    )
