"""``slokeeper run``: the operator itself."""

from __future__ import annotations

import argparse
import logging
import os
from datetime import datetime

import kopf

from slokeeper.handlers import operator
from slokeeper.slo.durations import duration_seconds


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the operator")
    parser.add_argument(
        "--prometheus-url",
        default=os.environ.get("SLOKEEPER_PROMETHEUS_URL", "http://prometheus:9090"),
        help="Prometheus query API (env SLOKEEPER_PROMETHEUS_URL)",
    )
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
        default=[],
        help="watch only this namespace (repeatable); default: all namespaces",
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
        help="port of the /healthz liveness probe (0: off; default 8081)",
    )
    parser.add_argument(
        "--bind-address",
        default=os.environ.get("SLOKEEPER_BIND_ADDRESS", "0.0.0.0"),  # noqa: S104 - a Pod's network
        help="address the metrics and health ports listen on (default all, as in a Pod)",
    )
    parser.add_argument(
        "--no-slo-metrics",
        action="store_true",
        help="do not export per-SLO budget and burn-rate gauges (for very many SLOs)",
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
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # kopf logs every handled watch event; the Deployment watch alone makes that a flood.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    config = operator.OperatorConfig(
        prometheus_url=args.prometheus_url,
        interval_seconds=duration_seconds(args.interval),
        kubeconfig=args.kubeconfig,
        metrics_port=args.metrics_port,
        metrics_address=args.bind_address,
        per_slo_metrics=not args.no_slo_metrics,
        clock_start=args.clock_start,
        crash_after=os.environ.get("SLOKEEPER_TEST_CRASH_AFTER"),
    )
    kopf.run(
        standalone=True,
        clusterwide=not args.namespace,
        namespaces=list(args.namespace),
        memo=kopf.Memo(config=config),
        liveness_endpoint=(
            f"http://{args.bind_address}:{args.health_port}/healthz" if args.health_port else None
        ),
    )
    return 0
