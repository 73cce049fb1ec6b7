"""``slokeeper run``: the operator itself. Its flags come from ``cli.settings_table``; every one
but ``--verbose`` has an environment variable, which is how the Helm chart configures it. This
module only parses them and hands them to the composition root (``handlers.composition``).
"""

from __future__ import annotations

import argparse

from slokeeper.cli.log_format import configure_logging
from slokeeper.cli.prometheus_options import add_prometheus_arguments, prometheus_access
from slokeeper.cli.setting import add_settings
from slokeeper.cli.settings_table import OPERATOR_SETTINGS, setting
from slokeeper.handlers.composition import OperatorConfig, run_operator
from slokeeper.slo.durations import duration_seconds


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the operator")
    add_prometheus_arguments(parser, default_url=str(setting("--prometheus-url").default))
    add_settings(parser, OPERATOR_SETTINGS)
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
            rollout_concurrency=args.rollout_concurrency,
        )
    )
