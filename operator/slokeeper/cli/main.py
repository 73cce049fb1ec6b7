"""Entry point of the ``slokeeper`` command: one sub-command per module of this package.

Only the command being run is imported: the operator's and the demo's modules pull in kopf,
aiohttp and the report's charts, which took seconds a person waited on before
``slokeeper status`` printed anything.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from slokeeper import __version__
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


# Command name -> the module that declares it (``add_parser``) and runs it.
COMMANDS = {
    "completion": "slokeeper.cli.completion",
    "crds": "slokeeper.cli.crds",
    "dashboard": "slokeeper.cli.dashboard",
    "demo": "slokeeper.cli.demo",
    "import": "slokeeper.cli.import_slos",
    "report": "slokeeper.cli.report",
    "rollout": "slokeeper.cli.rollout",
    "rules": "slokeeper.cli.rules",
    "run": "slokeeper.cli.run",
    "status": "slokeeper.cli.status",
    "validate": "slokeeper.cli.validate",
}
# Flags before the command that take no value, so what follows them is not their value.
_FLAGS_WITHOUT_VALUE = ("-A", "--all-namespaces")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only the command ``only`` under the root (enough to run it)."""
    parser = argparse.ArgumentParser(
        prog="kubectl slo" if Path(sys.argv[0]).name == "kubectl-slo" else "slokeeper",
        description="SLOs as error budgets, burn-rate alerts and SLO-gated canary rollouts.",
        epilog=GLOBAL_FLAGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"slokeeper {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        module = importlib.import_module(module_name)
        if name == "completion":
            module.add_parser(subparsers, parser)
        else:
            module.add_parser(subparsers)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when that is certain without knowing every flag: its first
    word that is neither a flag nor a flag's value. None for help, a typo, a word that may be a
    flag's value, and ``completion`` (whose script describes every command)."""
    for index, word in enumerate(argv):
        if word.startswith("-"):
            continue
        before = argv[index - 1] if index else ""
        if before.startswith("-") and "=" not in before and before not in _FLAGS_WITHOUT_VALUE:
            if word in COMMANDS:
                return None
            continue
        return word if word in COMMANDS and word != "completion" else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=command_named(given))
    args = parser.parse_args(hoist_global_flags(parser, given))
    return run_command(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
