"""Approvals in a role count for the template they were given for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slokeeper.api.rollout_status import ChangeRolloutStatus
from slokeeper.loops.rollout.role_approvals import role_approvals
from slokeeper.rollout.requests import PersonRequest, Request
from slokeeper.rollout.states import State
from slokeeper.rollout.workload import TargetView

CHANGED = datetime(2026, 12, 1, 7, 10, 5, tzinfo=UTC)
TARGET = TargetView({}, "new", 4, True, False, template_changed_at=CHANGED)


def _asked(at: datetime | None) -> dict[str, PersonRequest]:
    return {"on-call": PersonRequest(Request.APPROVE, by="bob", role="on-call", given_at=at)}


def test_an_approval_set_before_the_template_changed_is_refused_saying_why() -> None:
    for at in (CHANGED - timedelta(seconds=3), CHANGED):  # the same second counts as before
        given, refused = role_approvals(
            ChangeRolloutStatus(), _asked(at), TARGET, State(stable="old"), CHANGED
        )
        assert given == []
        assert "given before the template changed to new" in refused[0][1]


def test_an_approval_set_after_it_counts() -> None:
    later = CHANGED + timedelta(seconds=1)
    given, refused = role_approvals(
        ChangeRolloutStatus(), _asked(later), TARGET, State(stable="old"), later
    )
    assert [(a.by, a.role) for a in given] == [("bob", "on-call")]
    assert refused == []


def test_an_approval_the_api_server_does_not_date_waits_and_says_why() -> None:
    undated = TargetView({}, "new", 4, True, False, template_changed_at=None)
    later = CHANGED + timedelta(seconds=1)
    for asked, target, unknown in (
        (_asked(None), TARGET, "when the approval was set"),
        (_asked(later), undated, "when the template changed"),
    ):
        given, refused = role_approvals(
            ChangeRolloutStatus(), asked, target, State(stable="old"), later
        )
        assert given == []
        assert unknown in refused[0][1]
        assert "cannot count for template new; the change waits" in refused[0][1]
