"""`slokeeper run`'s settings table: one row per setting, and the help, the Helm chart and README
all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slokeeper.cli.main import build_parser
from slokeeper.cli.setting import Kind, Setting
from slokeeper.cli.settings_table import RUN_SETTINGS, markdown_table, readme_with_table
from slokeeper.handlers.composition import POD_NAMESPACE_ENV
from slokeeper.handlers.fault_injection import CRASH_AFTER_ENV

ROOT = Path(__file__).resolve().parents[3]
DEPLOYMENT = ROOT / "charts" / "slokeeper" / "templates" / "deployment.yaml"
README = ROOT / "README.md"

# Set by the chart but not settings a user chooses: the Pod's namespace from the Downward API,
# the default of --leader-election-namespace.
DOWNWARD_API = {POD_NAMESPACE_ENV}


def _run_help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def _chart_env() -> set[str]:
    """The variables the operator Deployment sets (every `- name:` of its env list)."""
    text = DEPLOYMENT.read_text()
    env = text[text.index("env:") : text.index("ports:")]
    return set(re.findall(r"^\s+- name: ([A-Z_][A-Z0-9_]*)\s*$", env, re.MULTILINE))


def test_flags_and_variables_are_each_named_once() -> None:
    flags = [flag for row in RUN_SETTINGS for flag in row.flags]
    variables = [row.env for row in RUN_SETTINGS if row.env]
    assert len(flags) == len(set(flags))
    assert len(variables) == len(set(variables))
    assert CRASH_AFTER_ENV not in variables  # test fault injection is not a setting


def test_every_row_is_in_run_help_with_its_variable_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _run_help(capsys)
    for row in RUN_SETTINGS:
        for flag in row.flags:
            assert re.search(rf"(^|[\s,\[]){re.escape(flag)}[\s,=]", text), flag
        if row.env:
            assert f"env {row.env}" in text, row.env
        if row.shown() is not None:
            assert " ".join(f"default {row.shown()}".split()) in text, row.flags


@pytest.mark.parametrize(
    "row",
    [row for row in RUN_SETTINGS if row.env and row.kind is Kind.VALUE],
    ids=lambda row: row.env,
)
def test_a_variable_sets_the_flags_default(row: Setting, monkeypatch: pytest.MonkeyPatch) -> None:
    assert row.env is not None
    sample = {
        "--log-format": "json",
        "--clock-start": "2026-12-06T02:00:00+00:00",
    }.get(row.flags[-1], "7")
    monkeypatch.setenv(row.env, sample)
    args = build_parser().parse_args(["run"])
    value = getattr(args, row.flags[-1].removeprefix("--").replace("-", "_"))
    assert value == (row.parse(sample) if row.parse else sample)


def test_switches_read_true_1_or_yes_and_lists_are_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOKEEPER_LEADER_ELECT", "Yes")
    monkeypatch.setenv("SLOKEEPER_NO_SLO_METRICS", "0")
    monkeypatch.setenv("SLOKEEPER_NAMESPACES", "shop,,pay-*")
    args = build_parser().parse_args(["run", "-n", "ops"])
    assert args.leader_elect is True
    assert args.no_slo_metrics is False
    assert args.namespace == ["shop", "pay-*", "ops"]  # the flag adds to the variable's


def test_the_chart_sets_exactly_the_rows_it_names_and_the_downward_api_namespace() -> None:
    chart = _chart_env()
    in_table = {row.env for row in RUN_SETTINGS if row.env}
    assert chart - in_table == DOWNWARD_API, "the chart sets a variable slokeeper run never reads"
    named = {row.env for row in RUN_SETTINGS if row.chart}
    assert chart & in_table == named, "a row's `chart` says the chart sets it, or it is unsaid"


def test_readme_configuration_table_is_rendered_from_the_rows() -> None:
    text = README.read_text()
    assert markdown_table()[2] in text
    assert readme_with_table(text) == text, (
        "README's configuration table is stale: "
        ".venv/bin/python -m slokeeper.cli.settings_table README.md"
    )


def test_rendering_replaces_only_the_table() -> None:
    before = ["# Title", "", *markdown_table()[:2], "| old | row | - | - | - |", "", "after"]
    rendered = readme_with_table("\n".join(before)).split("\n")
    assert rendered[:2] == before[:2]
    assert rendered[2:-2] == markdown_table()
    assert rendered[-2:] == ["", "after"]
