"""Entry point of the ``slokeeper`` command: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from slokeeper import __version__
from slokeeper.cli import (
    completion,
    crds,
    dashboard,
    demo,
    import_slos,
    report,
    rollout,
    rules,
    run,
    status,
    validate,
)
from slokeeper.cli.failures import run_command
from slokeeper.cli.global_flags import hoist_global_flags

GLOBAL_FLAGS_HELP = """\
global flags, before or after the command, for every command that takes them:
  -n/--namespace NS, -A/--all-namespaces, --kubeconfig FILE, --context NAME,
  --prometheus-url URL and the other --prometheus-* flags
durations are written like 60s, 5m, 1h

exit codes: 0 done, 1 failed (refused, not found, invalid input, API server or Prometheus
unreachable: one line on stderr), 2 wrong command line, 3 rollout status: rolled back,
4 rollout status --watch: timed out, 130 interrupted"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl slo" if Path(sys.argv[0]).name == "kubectl-slo" else "slokeeper",
        description="SLOs as error budgets, burn-rate alerts and SLO-gated canary rollouts.",
        epilog=GLOBAL_FLAGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"slokeeper {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    completion.add_parser(subparsers, parser)
    crds.add_parser(subparsers)
    dashboard.add_parser(subparsers)
    demo.add_parser(subparsers)
    import_slos.add_parser(subparsers)
    report.add_parser(subparsers)
    rollout.add_parser(subparsers)
    rules.add_parser(subparsers)
    run.add_parser(subparsers)
    status.add_parser(subparsers)
    validate.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    given = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(hoist_global_flags(parser, given))
    return run_command(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
