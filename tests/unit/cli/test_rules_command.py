"""`slokeeper rules` renders rules offline and names the file and field it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slokeeper.cli.main import main

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"


def test_rules_of_the_samples_form_one_rule_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", *map(str, sorted(SAMPLES.glob("*.yaml")))]) == 0
    rendered = yaml.safe_load(capsys.readouterr().out)
    names = [group["name"] for group in rendered["groups"]]
    # The ChangeRollout sample is skipped; each SLO gets its own group.
    assert names == [
        "slokeeper-default-checkout-monthly",
        "slokeeper-default-orders-etl-freshness",
        "slokeeper-default-checkout-latency",
        "slokeeper-default-checkout-availability",
    ]


def test_prometheusrule_format_gives_one_object_per_slo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "prometheusrule", str(SAMPLES / "slo-ratio.yaml")]) == 0
    (rule,) = list(yaml.safe_load_all(capsys.readouterr().out))
    assert rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["namespace"] == "default"
    assert rule["spec"]["groups"][0]["name"] == "slokeeper-default-checkout-availability"


def test_an_invalid_slo_names_the_file_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = yaml.safe_load((SAMPLES / "slo-ratio.yaml").read_text())
    broken["spec"]["target"] = 120
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert main(["rules", str(path)]) == 1
    error = capsys.readouterr().err
    assert str(path) in error
    assert "spec.target" in error
    assert "less than 100" in error


def test_files_without_slos_are_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", str(SAMPLES / "changerollout.yaml")]) == 1
    assert "no ServiceLevelObjective" in capsys.readouterr().err
