"""The models, with the schema's JSON types (as `slokeeper validate` runs them), refuse every
invalid resource the API server refuses, naming the field."""

from __future__ import annotations

import pytest

from invalid_resources import INVALID_CASES, InvalidCase, sample
from slokeeper.cli.manifest_lines import field_path
from slokeeper.cli.validate import document_problems


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: case.id)
def test_the_models_refuse_it_naming_the_field(case: InvalidCase) -> None:
    model, problems = document_problems(case.resource())
    assert model is None
    errors = [(field_path(location), message) for location, message in problems]
    # A model-level rule is reported on the object that holds the field it names.
    assert any(
        (case.field == path or case.field.startswith(path + ".")) and case.message in message
        for path, message in errors
    ), f"expected {case.field!r} with {case.message!r}, got {errors}"


@pytest.mark.parametrize(
    ("target", "word"),
    [("99.9", '"string"'), ("NaN", '"string"'), (True, '"boolean"'), ([99.9], '"array"')],
)
def test_a_target_that_is_no_json_number_is_refused_in_the_api_servers_words(
    target: object, word: str
) -> None:
    """pydantic's lax mode reads "99.9" as a number; the API server's schema says number."""
    resource = sample("slo-ratio.yaml")
    resource["spec"]["target"] = target
    _, problems = document_problems(resource)
    assert problems == [(("spec", "target"), f"must be of type number: {word}")]


def test_nan_anywhere_is_refused_as_json_refuses_it_and_nothing_else_is_said() -> None:
    """kubectl and the API server stop at the YAML-to-JSON step: no field is checked after it."""
    resource = sample("slo-ratio.yaml")
    resource["metadata"]["labels"] = {"tier": float("nan")}
    resource["spec"]["target"] = float("-inf")
    resource["spec"]["service"] = 5  # a type error the API server never gets to
    _, problems = document_problems(resource)
    assert sorted(problems) == [
        (("metadata", "labels", "tier"), "json: unsupported value: NaN"),
        (("spec", "target"), "json: unsupported value: -Inf"),
    ]


def test_integral_numbers_are_integers_and_integers_are_numbers() -> None:
    """A YAML 5.0 reaches the API server as 5 (kubectl writes it as JSON), which an integer
    field takes; an integer is a number."""
    slo, rollout = sample("slo-ratio.yaml"), sample("changerollout.yaml")
    slo["spec"]["target"] = 99
    rollout["spec"]["steps"][0]["weight"] = 5.0
    for resource in (slo, rollout):
        model, problems = document_problems(resource)
        assert problems == [], problems
        assert model is not None
    rollout["spec"]["steps"][0]["weight"] = 5.5
    _, problems = document_problems(rollout)
    assert problems == [(("spec", "steps", 0, "weight"), 'must be of type integer: "number"')]
