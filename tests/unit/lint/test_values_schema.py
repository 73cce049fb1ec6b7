"""lint/values_schema.py: values.schema.json is generated from values.yaml, is current, and closes
every object of the values to unknown keys (what makes Helm refuse a misspelt value). Helm's own
refusals are in tests/integration/test_chart_values_schema.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "slokeeper"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "values_schema", REPO / "lint" / "values_schema.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _objects(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every object schema that lists its properties, with its dotted path."""
    found = []
    if "properties" in schema:
        found.append((path or "(top level)", schema))
        for key, child in schema["properties"].items():
            found += _objects(child, f"{path}.{key}" if path else key)
    return found


def test_the_committed_schema_is_what_values_yaml_gives() -> None:
    assert _generator().main(["--check"]) == 0
    committed = json.loads((CHART / "values.schema.json").read_text())
    assert committed["properties"]["replicaCount"] == {"type": "integer", "minimum": 0}


def test_every_object_of_the_values_refuses_unknown_keys() -> None:
    committed = json.loads((CHART / "values.schema.json").read_text())
    objects = _objects(committed)
    assert len(objects) > 20
    open_objects = [
        path for path, schema in objects if schema.get("additionalProperties") is not False
    ]
    assert not open_objects


def test_a_value_added_to_values_yaml_is_in_the_schema_with_its_type() -> None:
    text = (CHART / "values.yaml").read_text() + "\nnewSetting:\n  enabled: false\n  port: 9\n"
    schema = _generator().values_schema(text)
    assert schema["properties"]["newSetting"] == {
        "type": "object",
        "properties": {"enabled": {"type": "boolean"}, "port": {"type": "integer"}},
        "additionalProperties": False,
    }


def test_a_default_that_says_nothing_of_its_type_needs_a_schema_in_the_table() -> None:
    text = (CHART / "values.yaml").read_text() + "\nextraVolumes: []\n"
    with pytest.raises(ValueError, match="extraVolumes = \\[\\]: its default says nothing"):
        _generator().values_schema(text)
