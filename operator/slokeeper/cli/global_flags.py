"""Global flags anywhere, as kubectl takes them: ``slokeeper -n shop rollout status x`` means
``slokeeper rollout status x -n shop``.

argparse only reads an option on the parser that declares it, and each command declares its own
(``-n``, ``--kubeconfig``, ``--prometheus-url`` …). So before parsing, the global flags written
ahead of the command's name are moved to just after it, where the command reads them; flags the
command writes later still win, as kubectl's last flag does. A command that has no such flag says
so itself (``unrecognized arguments: -A``), rather than the flag being dropped silently.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import TypeAlias

# Flags that mean the same to every command that takes them: where the cluster and Prometheus are.
CLUSTER_FLAGS = ("-n", "--namespace", "-A", "--all-namespaces", "--kubeconfig", "--context")
PROMETHEUS_PREFIX = "--prometheus-"


def _is_global(flag: str) -> bool:
    return flag in CLUSTER_FLAGS or flag.startswith(PROMETHEUS_PREFIX)


Parser = argparse.ArgumentParser
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def subcommands(parser: Parser) -> Subcommands | None:
    """The parser's sub-command action, None for a command that has none (a leaf)."""
    return next(
        (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
        None,
    )


def walk(parser: Parser) -> Iterator[tuple[tuple[str, ...], Parser]]:
    """Every command under ``parser`` with its path of names (``("rollout", "status")``), the
    parser itself first with the empty path."""
    pending: list[tuple[tuple[str, ...], Parser]] = [((), parser)]
    while pending:
        path, current = pending.pop(0)
        yield path, current
        action = subcommands(current)
        if action is not None:
            pending += [((*path, name), sub) for name, sub in action.choices.items()]


def global_flags(parser: argparse.ArgumentParser) -> dict[str, bool]:
    """Every global flag some command takes, and whether it takes a value."""
    found: dict[str, bool] = {}
    for _path, command in walk(parser):
        for action in command._actions:
            for flag in action.option_strings:
                if _is_global(flag):
                    found[flag] = action.nargs != 0
    return found


def hoist_global_flags(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``argv`` with the global flags written before the command moved to just after its name;
    unchanged when it names no command (``--help``, ``--version``, a typo: argparse says)."""
    flags = global_flags(parser)
    rest, path, moved = list(argv), [], []
    current = parser
    while rest:
        token = rest[0]
        flag, equals, _value = token.partition("=")
        if flag in flags:
            taken = 2 if flags[flag] and not equals and len(rest) > 1 else 1
            moved += rest[:taken]
            del rest[:taken]
            continue
        action = subcommands(current)
        if action is None or token not in action.choices:
            break
        path.append(rest.pop(0))
        current = action.choices[token]
        if subcommands(current) is None:
            return [*path, *moved, *rest]
    return list(argv)
