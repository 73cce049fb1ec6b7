"""Runs the real promtool the toolchain built, and hands back what it said."""

from __future__ import annotations

import subprocess
from pathlib import Path

from slokeeper.slo.rules import RuleGroup


def promtool(
    binary: Path, *arguments: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``promtool ARGUMENTS…``; the caller asserts on the exit code and shows the output."""
    return subprocess.run(
        [str(binary), *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )


def without_annotations(group: RuleGroup) -> RuleGroup:
    """The group with its alerts' annotations removed: they embed the rendered ``$value``, and
    ``promtool test rules`` compares them, while a timing test is about when alerts fire."""
    return RuleGroup(
        group.name,
        tuple({k: v for k, v in rule.items() if k != "annotations"} for rule in group.rules),
    )
