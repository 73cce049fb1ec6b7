"""`slokeeper validate` refuses what the API server refuses, pointing at the line of the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from invalid_resources import INVALID_CASES, SAMPLES, InvalidCase
from slokeeper.cli.validate import check_file


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: case.id)
def test_each_invalid_resource_is_refused_at_the_line_of_its_field(
    case: InvalidCase, tmp_path: Path
) -> None:
    manifest = tmp_path / "resource.yaml"
    manifest.write_text(yaml.safe_dump(case.resource(), sort_keys=False))
    problems = check_file(manifest, promtool=None)
    lines = manifest.read_text().splitlines()
    matching = []
    for problem in problems:
        _, line, field, message = problem.split(":", 3)
        field = field.strip()
        if (case.field == field or case.field.startswith(field + ".")) and case.message in message:
            matching.append((int(line), field))
    assert matching, f"expected {case.field!r} with {case.message!r}, got {problems}"
    line, field = matching[0]
    at = lines[line - 1].strip()
    if field.endswith("]"):
        assert at.startswith("- "), (line, at, problems)  # a list item: its dash
        return
    *parents, key = field.split(".")
    if f"{key}:" not in manifest.read_text():  # a missing field: the object that lacks it
        key = parents[-1]
    assert at.removeprefix("- ").startswith(key.split("[")[0] + ":"), (line, at, problems)


def test_the_samples_are_valid_and_other_kinds_are_skipped(tmp_path: Path) -> None:
    for sample in sorted(SAMPLES.glob("*.yaml")):
        assert check_file(sample, promtool=None) == [], sample
    other = tmp_path / "configmap.yaml"
    other.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert check_file(other, promtool=None) == []


def test_unreadable_yaml_is_reported_with_its_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: ServiceLevelObjective\nspec: [unclosed\n")
    (problem,) = check_file(broken, promtool=None)
    assert problem.startswith(f"{broken}: ")


def test_rules_prometheus_would_refuse_are_reported_at_the_alerting_settings(
    tmp_path: Path,
) -> None:
    """A template the API server cannot know is broken: validate says what the operator would."""
    slo = yaml.safe_load((SAMPLES / "slo-ratio.yaml").read_text())
    slo["spec"]["alerting"]["labels"]["team"] = "{{ $labels.slo"
    manifest = tmp_path / "slo.yaml"
    manifest.write_text(yaml.safe_dump(slo, sort_keys=False))
    problems = check_file(manifest, promtool=None)
    assert problems, "a broken label template passed"
    line = int(problems[0].split(":")[1])
    assert manifest.read_text().splitlines()[line - 1].strip() == "alerting:"
    assert all("spec.alerting: Prometheus would refuse its rules" in p for p in problems)
    assert any("label 'team': template: unclosed action" in p for p in problems), problems
