"""Entry point of the ``slokeeper`` command: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from slokeeper import __version__
from slokeeper.cli import (
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl slo" if Path(sys.argv[0]).name == "kubectl-slo" else "slokeeper",
        description="SLOs as error budgets, burn-rate alerts and SLO-gated canary rollouts.",
    )
    parser.add_argument("--version", action="version", version=f"slokeeper {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
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
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
