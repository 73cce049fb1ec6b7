"""What the guarded Deployment's managedFields tell: when `slokeeper rollout undo` set its
template, only while it was the last to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slokeeper.kube.target_pods import UNDO_FIELD_MANAGER, undone_at

TEMPLATE = {"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}


def _deployment(*entries: tuple[str, str]) -> dict[str, Any]:
    return {
        "metadata": {
            "managedFields": [
                {"manager": manager, "operation": "Update", "time": time, "fieldsV1": TEMPLATE}
                for manager, time in entries
            ]
        }
    }


def test_the_undo_set_the_template_last() -> None:
    body = _deployment(
        ("kubectl-set", "2026-12-02T03:00:00Z"), (UNDO_FIELD_MANAGER, "2026-12-02T03:00:05Z")
    )
    assert undone_at(body) == datetime(2026, 12, 2, 3, 0, 5, tzinfo=UTC)


def test_a_later_change_by_someone_else_is_not_the_undo() -> None:
    body = _deployment(
        (UNDO_FIELD_MANAGER, "2026-12-02T03:00:05Z"), ("kubectl-set", "2026-12-02T03:01:00Z")
    )
    assert undone_at(body) is None
    assert undone_at(_deployment(("kubectl-set", "2026-12-02T03:00:00Z"))) is None
