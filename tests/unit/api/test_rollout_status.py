"""A person's action names its signer the way the loop's messages and Events do."""

from __future__ import annotations

from datetime import UTC, datetime

from slokeeper.api.rollout_status import PersonAction

AT = datetime(2026, 11, 26, 1, 55, tzinfo=UTC)


def test_an_action_is_signed_by_who_gave_it_with_the_reason() -> None:
    action = PersonAction(by="bob", reason="CHG-12", at=AT)
    assert (action.who, action.signed()) == ("bob", "bob: CHG-12")


def test_an_action_without_a_reason_is_signed_by_name_alone() -> None:
    assert PersonAction(by="bob", at=AT).signed() == "bob"


def test_an_unsigned_action_is_by_someone() -> None:
    action = PersonAction(reason="hotfix", at=AT)
    assert (action.who, action.signed()) == ("someone", "someone: hotfix")
