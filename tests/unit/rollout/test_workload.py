"""Who set a Deployment's replicas, from its managedFields."""

from __future__ import annotations

from slokeeper.rollout.workload import replicas_set_by

OURS = {
    "manager": "slokeeper",
    "operation": "Update",
    "time": "2026-11-25T12:00:00Z",
    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}},
}


def test_replicas_set_by_slokeeper_are_no_ones_hand_change() -> None:
    assert replicas_set_by({"managedFields": [OURS]}, "slokeeper") == ""
    assert replicas_set_by({}, "slokeeper") == ""


def test_a_hand_scale_through_the_scale_subresource_names_the_tool_and_when() -> None:
    scaled = {
        "manager": "kubectl-scale",
        "operation": "Update",
        "subresource": "scale",
        "time": "2026-11-25T12:00:07Z",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }
    rest = {**OURS, "fieldsV1": {"f:spec": {"f:template": {}}}}
    found = replicas_set_by({"managedFields": [rest, scaled]}, "slokeeper")
    assert found == "kubectl-scale at 2026-11-25T12:00:07Z"


def test_a_scale_entry_without_a_time_names_the_tool_only() -> None:
    scaled = {
        "manager": "kubectl",
        "subresource": "scale",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }
    assert replicas_set_by({"managedFields": [scaled]}, "slokeeper") == "kubectl"


def test_a_tool_that_changed_other_fields_is_not_named() -> None:
    labels = {
        "manager": "kubectl-label",
        "time": "2026-11-25T12:00:09Z",
        "fieldsV1": {"f:metadata": {"f:labels": {}}},
    }
    assert replicas_set_by({"managedFields": [OURS, labels]}, "slokeeper") == ""
