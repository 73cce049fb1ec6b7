"""The pydantic models refuse every invalid resource the API server refuses, naming the field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from invalid_resources import INVALID_CASES, InvalidCase
from slokeeper.cli.manifest_lines import field_path
from slokeeper.cli.validate import KINDS

MODELS: dict[str, type[BaseModel]] = KINDS


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: case.id)
def test_the_models_refuse_it_naming_the_field(case: InvalidCase) -> None:
    resource = case.resource()
    with pytest.raises(ValidationError) as refused:
        MODELS[resource["kind"]].model_validate(resource)
    errors = [(field_path(error["loc"]), error["msg"]) for error in refused.value.errors()]
    # A model-level rule is reported on the object that holds the field it names.
    assert any(
        (case.field == path or case.field.startswith(path + ".")) and case.message in message
        for path, message in errors
    ), f"expected {case.field!r} with {case.message!r}, got {errors}"
