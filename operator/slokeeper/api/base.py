"""Shared building blocks of the resource models: field naming, durations, conditions, CEL rules.

Every model of a custom resource derives from ``ResourceModel`` so that Python names are snake_case
while the YAML a user writes (and the CRD schema generated from these models) is camelCase.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "slokeeper.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Prometheus' own duration syntax, so a value can be pasted into a range selector as it is.
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w|y))+$"

Duration = Annotated[
    str,
    Field(
        pattern=DURATION_PATTERN,
        max_length=32,
        examples=["30s", "5m", "1h", "28d"],
    ),
]


def cel(rule: str, message: str, field_path: str | None = None) -> dict[str, str]:
    """One ``x-kubernetes-validations`` entry: a CEL rule the API server enforces.

    ``field_path`` (relative to the object the rule sits on, e.g. ``.target``) makes the API
    server name that field in its error instead of the enclosing object.
    """
    entry = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    return entry


def cel_rules(*rules: dict[str, str]) -> dict[str, Any]:
    """The ``json_schema_extra`` that attaches CEL rules to a model or field."""
    return {"x-kubernetes-validations": list(rules)}


class ResourceModel(BaseModel):
    """Base of every spec and status model: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=False,
        validate_default=True,
    )


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(ResourceModel):
    """A Kubernetes-style condition, as ``kubectl wait``, Argo CD and Flux read them."""

    type: str = Field(description="Kind of condition, e.g. Ready.", max_length=316)
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        description="Machine-readable reason in CamelCase, e.g. BudgetExhausted.",
        max_length=1024,
    )
    message: str = Field(
        default="", description="What happened and what a person can do about it.", max_length=32768
    )
    last_transition_time: datetime = Field(
        description="When the status of this condition last changed."
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="The .metadata.generation this condition was computed for."
    )


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=16,
        description="Current state as Kubernetes-style conditions; Ready is always present.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class ObjectMeta(BaseModel):
    """The part of metadata the operator reads; the API server owns the rest."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    name: str
    namespace: str | None = None
    generation: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
