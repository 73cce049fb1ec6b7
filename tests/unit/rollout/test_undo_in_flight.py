"""`slokeeper rollout undo` writes twice (the template, then its request): a tick that sees the
first write only waits for the second instead of deciding on a template change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slokeeper.rollout.out_of_band import UNDO_REQUEST_WAIT, undo_request_awaited
from slokeeper.rollout.states import Phase, State

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
JUST = NOW - timedelta(seconds=1)
AWAITING = State(Phase.AWAITING_APPROVAL, stable="v1", candidate="v2")


def test_an_undo_seen_before_its_request_is_waited_for() -> None:
    # Back to the stable template while v2 waited for its approval.
    assert undo_request_awaited(AWAITING, "v1", JUST, None, NOW)
    # Back to an older known-good template from rest.
    assert undo_request_awaited(State(Phase.SUCCEEDED, stable="v2"), "v0", JUST, None, NOW)


def test_nothing_is_awaited_once_the_request_is_seen_or_acted_on() -> None:
    assert not undo_request_awaited(AWAITING, "v1", JUST, "v1", NOW)
    # Acted on: rolled back to the stable template, or promoting the older one.
    assert not undo_request_awaited(State(Phase.ROLLED_BACK, stable="v1"), "v1", JUST, None, NOW)
    undoing = State(Phase.PROMOTING, stable="v2", candidate="v0")
    assert not undo_request_awaited(undoing, "v0", JUST, None, NOW)


def test_a_template_the_undo_did_not_set_last_or_long_ago_is_decided_as_usual() -> None:
    assert not undo_request_awaited(AWAITING, "v1", None, None, NOW)
    # The CLI stopped between its writes: after the wait, a template change like any other.
    assert not undo_request_awaited(AWAITING, "v1", NOW - UNDO_REQUEST_WAIT, None, NOW)
