"""crds/ is generated from the models, current, and a structural schema the API server accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from invalid_resources import sample
from slokeeper.api.crd import RESOURCE_KINDS, custom_resource_definition
from slokeeper.cli.main import main

ROOT = Path(__file__).resolve().parents[3]

# Keys that make a schema non-structural or that OpenAPI v3.0 does not know.
FORBIDDEN_KEYS = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "const", "examples"}


def _walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def _schema(resource_index: int) -> dict[str, Any]:
    crd = custom_resource_definition(RESOURCE_KINDS[resource_index])
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_crds_directory_matches_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["crds", "--check", "--output-dir", str(ROOT / "crds")])
    assert code == 0, capsys.readouterr().err


def test_check_fails_when_a_crd_was_edited_by_hand(tmp_path: Path) -> None:
    assert main(["crds", "--output-dir", str(tmp_path)]) == 0
    edited = next(tmp_path.glob("*.yaml"))
    edited.write_text(edited.read_text().replace("description:", "description: edited", 1))
    assert main(["crds", "--check", "--output-dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("index", range(len(RESOURCE_KINDS)), ids=lambda i: RESOURCE_KINDS[i].kind)
def test_every_field_is_typed_and_described(index: int) -> None:
    for path, node in _walk(_schema(index), "openAPIV3Schema"):
        assert not FORBIDDEN_KEYS & node.keys(), f"{path} uses {FORBIDDEN_KEYS & node.keys()}"
        assert "type" in node, f"{path} has no type"
        if path.count(".") > 1 and not path.endswith(("[]", "{}")):
            assert node.get("description"), f"{path} has no description"
        if "properties" in node:
            assert "additionalProperties" not in node, f"{path} mixes properties and a map"


SAMPLE_OF = {
    "ServiceLevelObjective": "slo-ratio.yaml",
    "ChangeRollout": "changerollout.yaml",
    "MaintenanceWindow": "maintenancewindow.yaml",
    "ChangePolicy": "changepolicy.yaml",
}


@pytest.mark.parametrize("index", range(len(RESOURCE_KINDS)), ids=lambda i: RESOURCE_KINDS[i].kind)
def test_defaults_the_api_server_fills_in_are_the_models_defaults(index: int) -> None:
    resource = RESOURCE_KINDS[index]
    spec_schema = _schema(index)["properties"]["spec"]
    defaults = {
        name: node["default"]
        for name, node in spec_schema["properties"].items()
        if "default" in node
    }
    assert defaults, "the spec schema carries no defaults at all"
    required_only = {
        name: value
        for name, value in sample(SAMPLE_OF[resource.kind])["spec"].items()
        if name in spec_schema.get("required", [])
    }
    from_models = resource.spec.model_validate(required_only).model_dump(
        by_alias=True, mode="json", exclude_none=True
    )
    from_schema = resource.spec.model_validate({**required_only, **defaults}).model_dump(
        by_alias=True, mode="json", exclude_none=True
    )
    assert from_schema == from_models


def test_crds_carry_names_columns_and_the_status_subresource() -> None:
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        names, version = crd["spec"]["names"], crd["spec"]["versions"][0]
        assert names["categories"] == ["slokeeper"]
        assert names["shortNames"][0] in {"slo", "crollout", "mw", "cpol"}
        assert version["subresources"] == {"status": {}}
        columns = [column["name"] for column in version["additionalPrinterColumns"]]
        assert "Age" in columns
        # A MaintenanceWindow or a ChangePolicy is read, never reconciled: no Ready to show.
        assert ("Ready" in columns) == (names["kind"] not in ("MaintenanceWindow", "ChangePolicy"))


def test_kubectl_shows_the_rollout_step_counted_from_1() -> None:
    crd = yaml.safe_load((ROOT / "crds" / "slokeeper.dev_changerollouts.yaml").read_text())
    columns = {c["name"]: c for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert columns["Step"]["jsonPath"] == ".status.current.stepNumber"
    assert columns["Weight"]["jsonPath"] == ".status.current.canaryWeightPercent"
