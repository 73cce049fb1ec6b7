"""The rule check says what Prometheus says when it loads a rule file (the integration test
tests/integration/test_rule_check_against_promtool.py holds it against the real promtool)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from invalid_resources import QUERY_TEMPLATES, sample
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.slo.objective import FreshnessIndicator, FreshnessSource
from slokeeper.slo.rule_check import (
    data_read_problem,
    group_problems,
    promql_problem,
    template_problem,
)
from slokeeper.slo.rules import BUDGET_LEFT_TEMPLATE, FORECAST_ALERT, RuleGroup, rule_group


@pytest.mark.parametrize(
    "name", ["slo-ratio.yaml", "slo-latency.yaml", "slo-calendar.yaml", "slo-freshness.yaml"]
)
def test_the_rules_of_every_sample_pass(name: str) -> None:
    objective = ServiceLevelObjective.model_validate(sample(name)).to_objective()
    assert group_problems(rule_group(objective)) == ()


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ $labels.slo }} is {{ $value | humanizePercentage }}", None),
        ('{{ with query "up" }}{{ . | first | value }}{{ end }}', None),
        ("{{ range $k, $v := $labels }}{{ $k }}={{ $v }}{{ end }}", None),
        ("{{- /* a comment */ -}}{{ if eq 1 1 }}a{{ else }}b{{ end }}", None),
        ('{{ "}}" }}', None),
        ("{{ $labels.slo", "unclosed action"),
        ("{{ if }}", "missing value for if"),
        ("{{ if .x }}a", "unexpected EOF"),
        ("{{ end }}", "unexpected {{end}}"),
        ("{{ }}", "missing value for command"),
        ("{{ nope }}", 'function "nope" not defined'),
        ("{{ (len .x }}", "unclosed left paren"),
        ("{{/* never closed }}", "unclosed comment"),
    ],
)
def test_templates_as_go_parses_them(template: str, problem: str | None) -> None:
    found = template_problem(template)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ('sum(rate(x{code=~"5.."}[5m])) / sum(rate(x[5m]))', None),
        ("max_over_time(rate(x[5m])[28d:1h])", None),
        ("x # a comment with ( and [\n+ 1", None),
        ("sum(rate(x[5m])", "unclosed '('"),
        ('x{a="b}', "unterminated string literal"),
        ("rate(x[0s])", "must be positive"),
        ("rate(x[300y])", "out of range"),
        ("rate(x[5m]))", "unexpected ')'"),
        ("  ", "no expression"),
    ],
)
def test_promql_structure(expr: str, problem: str | None) -> None:
    found = promql_problem(expr)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_group_names_each_problem_with_its_rule() -> None:
    group = RuleGroup(
        "g",
        (
            {"record": "ok_metric", "expr": "vector(1)", "labels": {"__name__": "x"}},
            {"alert": "A", "expr": "vector(1)", "labels": {"team": "{{ x"}, "for": "1x"},
            {"record": "bad-name", "expr": "vector(1)"},
        ),
    )
    problems = group_problems(group)
    assert "rule 1 (ok_metric): invalid label name '__name__'" in problems
    assert any(p.startswith("rule 2 (A): label 'team': template:") for p in problems)
    assert any(p.startswith("rule 2 (A): for:") for p in problems)
    assert "rule 3 (bad-name): invalid metric name 'bad-name'" in problems


def test_a_freshness_query_is_checked_where_the_operator_puts_it() -> None:
    objective = ServiceLevelObjective.model_validate(sample("slo-freshness.yaml")).to_objective()
    broken = replace(objective, indicator=FreshnessIndicator(FreshnessSource.LAG, "max(x", 900))
    assert any("expr: unclosed '('" in p for p in group_problems(rule_group(broken)))


def test_a_tenants_template_that_reads_series_is_never_written() -> None:
    """Prometheus would load it; the check refuses it, naming the rule and the annotation."""
    objective = ServiceLevelObjective.model_validate(sample("slo-ratio.yaml")).to_objective()
    reading = '{{ with query "secret_total" }}{{ . | first | value }}{{ end }}'
    alerting = replace(objective.alerting, annotations=(("note", reading),))
    problems = group_problems(rule_group(replace(objective, alerting=alerting)))
    assert problems
    assert all("annotation 'note': template: calls query" in p for p in problems), problems
    assert any(p.startswith("rule ") and "(ErrorBudgetBurnPage)" in p for p in problems)


def test_slokeepers_own_forecast_template_may_read_its_own_slos_series() -> None:
    body = sample("slo-ratio.yaml")
    body["spec"]["alerting"]["forecast"] = {"enabled": True}
    group = rule_group(ServiceLevelObjective.model_validate(body).to_objective())
    forecast = next(rule for rule in group.rules if rule.get("alert") == FORECAST_ALERT)
    assert BUDGET_LEFT_TEMPLATE in forecast["annotations"]["description"]
    assert data_read_problem(forecast["annotations"]["description"]) is not None
    assert group_problems(group) == ()


@pytest.mark.parametrize(("text", "reads"), QUERY_TEMPLATES)
def test_which_templates_read_series(text: str, reads: bool) -> None:
    assert (data_read_problem(text) is not None) is reads
