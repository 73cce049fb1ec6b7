"""Runs the real promtool the toolchain built, and hands back what it said."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from slokeeper.api.prometheus_rules import rule_file
from slokeeper.slo.rules import RuleGroup


def promtool(
    binary: Path, *arguments: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``promtool ARGUMENTS…``; the caller asserts on the exit code and shows the output. (A
    month of samples in `promtool test rules` took 300 s on a loaded two-core CI run.)"""
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


def write_rule_file(path: Path, *groups: RuleGroup) -> Path:
    """slokeeper's groups as one rule file, their alerts without annotations."""
    path.write_text(yaml.safe_dump(rule_file([without_annotations(group) for group in groups])))
    return path


def replay(
    binary: Path,
    rules: Path,
    *,
    input_series: list[dict[str, str]],
    checks: dict[str, Any],
    interval: str = "1m",
    evaluation_interval: str = "1m",
    group_eval_order: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``promtool test rules`` of one test: the series, and the alert and PromQL checks, against
    a rule file (the test file is written beside it)."""
    unit_test: dict[str, Any] = {
        "rule_files": [str(rules)],
        "evaluation_interval": evaluation_interval,
        "tests": [{"interval": interval, "input_series": input_series, **checks}],
    }
    if group_eval_order is not None:
        unit_test["group_eval_order"] = group_eval_order
    test_file = rules.with_suffix(".test.yaml")
    test_file.write_text(yaml.safe_dump(unit_test))
    return promtool(binary, "test", "rules", str(test_file))
