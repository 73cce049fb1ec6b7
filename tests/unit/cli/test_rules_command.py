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


def _tree_of_slos(root: Path) -> None:
    """The samples spread as a GitOps repository keeps them: nested, .yml and .yaml, a hidden
    directory and a file of another kind beside them."""
    (root / "shop" / "checkout").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "shop" / "ratio.yaml").write_text((SAMPLES / "slo-ratio.yaml").read_text())
    (root / "shop" / "checkout" / "latency.yml").write_text(
        (SAMPLES / "slo-latency.yaml").read_text()
    )
    (root / ".git" / "old.yaml").write_text((SAMPLES / "slo-calendar.yaml").read_text())
    (root / "README.md").write_text((SAMPLES / "slo-calendar.yaml").read_text())


def test_a_directory_stands_for_every_yaml_file_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree_of_slos(tmp_path)
    assert main(["rules", str(tmp_path)]) == 0
    rendered = yaml.safe_load(capsys.readouterr().out)
    # checkout/latency.yml is read before ratio.yaml (name order); .git and README.md are not.
    assert [group["name"] for group in rendered["groups"]] == [
        "slokeeper-default-checkout-latency",
        "slokeeper-default-checkout-availability",
    ]


@pytest.mark.parametrize("rule_format", ["rulefile", "prometheusrule"])
def test_output_dir_writes_one_file_per_slo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule_format: str
) -> None:
    _tree_of_slos(tmp_path / "slos")
    out = tmp_path / "rules"
    assert main(["rules", str(tmp_path / "slos"), "-o", str(out), "--format", rule_format]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert written == ["default_checkout-availability.yaml", "default_checkout-latency.yaml"]
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {out / 'default_checkout-latency.yaml'}",
        f"wrote {out / 'default_checkout-availability.yaml'}",
    ]
    (document,) = yaml.safe_load_all((out / "default_checkout-latency.yaml").read_text())
    groups = document["groups"] if rule_format == "rulefile" else document["spec"]["groups"]
    assert [group["name"] for group in groups] == ["slokeeper-default-checkout-latency"]


def test_two_slos_of_one_name_are_refused_rather_than_one_overwriting_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for copy in ("a.yaml", "b.yaml"):
        (tmp_path / copy).write_text((SAMPLES / "slo-ratio.yaml").read_text())
    assert main(["rules", str(tmp_path), "-o", str(tmp_path / "out")]) == 1
    assert "two ServiceLevelObjectives default/checkout-availability" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
