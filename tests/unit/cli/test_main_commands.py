"""Only the command being run is imported, so `slokeeper status` does not wait on the operator's
and the demo's dependencies (kopf, aiohttp, the report's charts)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from slokeeper.cli.global_flags import subcommands
from slokeeper.cli.main import COMMANDS, build_parser, command_named


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["status", "-A"], "status"),
        (["-n", "shop", "rollout", "status", "checkout"], "rollout"),
        (["-A", "status"], "status"),
        (["--namespace=shop", "status"], "status"),
        (["--prometheus-url", "http://p:9090", "status"], "status"),
        # A word after a flag may be the flag's value: every command is loaded, argparse decides.
        (["-n", "status", "rollout", "list"], None),
        (["--prometheus-dedup", "rollout", "status", "x"], None),
        (["completion", "bash"], None),
        (["--help"], None),
        (["stauts"], None),
        ([], None),
    ],
)
def test_the_command_is_found_only_when_certain(argv: list[str], command: str | None) -> None:
    assert command_named(argv) == command


def test_every_command_is_declared_where_the_table_says() -> None:
    action = subcommands(build_parser())
    assert action is not None
    assert sorted(action.choices) == sorted(COMMANDS)
    for name in COMMANDS:
        alone = build_parser(only=name)
        assert name in alone.format_help()


def test_status_runs_without_importing_the_operator_or_the_demo() -> None:
    probe = (
        "import sys\n"
        "from slokeeper.cli.main import main\n"
        "try:\n"
        "    main(['status', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('kopf', 'aiohttp', 'slokeeper.cli.demo', 'slokeeper.cli.report')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
