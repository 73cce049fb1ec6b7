"""``slokeeper run``: the operator itself."""

from __future__ import annotations

import argparse
import logging
import os

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
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    config = operator.OperatorConfig(
        prometheus_url=args.prometheus_url,
        interval_seconds=duration_seconds(args.interval),
        kubeconfig=args.kubeconfig,
    )
    kopf.run(
        standalone=True,
        clusterwide=not args.namespace,
        namespaces=list(args.namespace),
        memo=kopf.Memo(config=config),
    )
    return 0
