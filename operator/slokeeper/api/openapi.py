"""Turns a pydantic JSON schema into a structural OpenAPI v3 schema the API server accepts.

pydantic writes JSON Schema 2020-12 with ``$defs``; a CRD needs OpenAPI v3.0 with everything
inlined, no ``anyOf`` for optional fields, boolean ``exclusiveMinimum``, and no titles.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

JSONSchema = dict[str, Any]


class _FactoryDefaults(GenerateJsonSchema):
    """Writes the value of a ``default_factory`` as the field's default.

    pydantic leaves factory defaults out of the schema; a CRD should carry them, so that the API
    server fills them in and ``kubectl get -o yaml`` shows what the operator will use.
    """

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            schema = {**schema, "default": factory()}  # type: ignore[call-arg]
            schema.pop("default_factory", None)
        return super().default_schema(schema)


def _without_nulls(value: Any) -> Any:
    """Drop unset (None) members from a default: the API server refuses null in a default."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


# Keys a structural schema keeps as they are. Anything else pydantic writes is dropped
# (titles, examples, additionalProperties: false from extra="forbid").
_KEPT = frozenset(
    {
        "type",
        "description",
        "default",
        "enum",
        "format",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "required",
        "nullable",
        "maxProperties",
    }
)


def structural_schema(model: type[BaseModel]) -> JSONSchema:
    """The OpenAPI v3 schema of ``model`` (by alias, as users write it), fully inlined."""
    raw = model.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_FactoryDefaults
    )
    definitions = raw.get("$defs", {})
    return _convert(raw, definitions)


def _resolve(node: JSONSchema, definitions: dict[str, JSONSchema]) -> JSONSchema:
    """Inline a ``$ref`` and unwrap ``anyOf: [X, null]``, keeping the outer description/default."""
    outer = {key: value for key, value in node.items() if key not in ("$ref", "anyOf", "allOf")}
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        return _merge(_resolve(target, definitions), outer)
    for junctor in ("anyOf", "allOf"):
        if junctor in node:
            branches = [branch for branch in node[junctor] if branch.get("type") != "null"]
            if len(branches) != 1:
                raise ValueError(f"a CRD schema cannot express a union here: {node[junctor]}")
            return _merge(_resolve(branches[0], definitions), outer)
    return node


def _merge(inner: JSONSchema, outer: JSONSchema) -> JSONSchema:
    merged = dict(inner)
    for key, value in outer.items():
        if key == "x-kubernetes-validations" and key in merged:
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def _convert(node: JSONSchema, definitions: dict[str, JSONSchema]) -> JSONSchema:
    node = _resolve(node, definitions)
    out: JSONSchema = {key: value for key, value in node.items() if key in _KEPT}
    for key, value in node.items():
        if key.startswith("x-kubernetes-"):
            out[key] = value
    if "const" in node:
        out["enum"] = [node["const"]]
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if bound in node:
            out[inclusive] = node[bound]
            out[bound] = True
    if out.get("default") is None:
        out.pop("default", None)
    else:
        out["default"] = _without_nulls(out["default"])
    if "properties" in node:
        out["type"] = "object"
        out["properties"] = {
            name: _convert(child, definitions) for name, child in node["properties"].items()
        }
    elif isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _convert(node["additionalProperties"], definitions)
    if "items" in node:
        out["items"] = _convert(node["items"], definitions)
    return out


Location = tuple[str | int, ...]


_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (dict, "object"),
    (list, "array"),
)


def json_type(value: Any) -> str:
    """The JSON type the API server sees for a value read from YAML. (kubectl writes YAML as
    JSON first: a timestamp stays a string, and an integral float such as 5.0 becomes 5.)"""
    if isinstance(value, float) and value.is_integer():
        return "integer"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "string")


def _go_float(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:+}".replace("inf", "Inf")


def unsupported_values(value: Any, location: Location = ()) -> list[tuple[Location, str]]:
    """Every NaN and ±Infinity in a document, anywhere, with Go's words: JSON cannot carry them, so
    kubectl (converting the YAML) and the API server (reading a YAML body) refuse the whole object
    with ``json: unsupported value: NaN`` before any schema is read."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(location, f"json: unsupported value: {_go_float(value)}")]
    if isinstance(value, dict):
        children: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        return []
    return [
        found for key, child in children for found in unsupported_values(child, (*location, key))
    ]


def type_problems(
    schema: JSONSchema, value: Any, location: Location = ()
) -> list[tuple[Location, str]]:
    """Each value whose JSON type is not its schema's ``type``, in the API server's words
    (``must be of type number: "string"``): a string "99.9" is no number, though pydantic's lax
    mode would read it as one. Unset (null) values and fields the schema does not know are left
    to the models."""
    expected, actual = schema.get("type"), json_type(value)
    if actual == "null":
        return []
    if expected is not None and actual != expected and (expected, actual) != ("number", "integer"):
        return [(location, f'must be of type {expected}: "{actual}"')]
    problems: list[tuple[Location, str]] = []
    if isinstance(value, dict):
        properties, extra = schema.get("properties"), schema.get("additionalProperties")
        for key, child in value.items():
            child_schema = properties.get(key) if properties is not None else extra
            if isinstance(child_schema, dict):
                problems += type_problems(child_schema, child, (*location, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += type_problems(schema["items"], item, (*location, index))
    return problems
