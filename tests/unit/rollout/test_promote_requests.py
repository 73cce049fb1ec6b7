"""What a promote request asks of the state machine: one step, every step, or every step past
the gates, as `slokeeper rollout promote [--full|--force]` writes it and the operator reads it."""

from __future__ import annotations

import pytest

from slokeeper.kube.rollout_commands import annotation, read_requests, request_value
from slokeeper.rollout.requests import PendingRequests, Request
from slokeeper.rollout.states import Command


@pytest.mark.parametrize(
    ("value", "command"),
    [
        (request_value(by="alice"), Command.PROMOTE_STEP),
        (request_value(by="alice", full=True), Command.PROMOTE),
        (request_value(by="alice", force=True), Command.FORCE_PROMOTE),
        (request_value(by="alice", full=True, force=True), Command.FORCE_PROMOTE),
        ("alice: looks fine", Command.PROMOTE_STEP),  # `kubectl annotate`, as argo's promote
    ],
)
def test_a_promote_is_of_one_step_unless_it_says_full_or_force(
    value: str, command: Command
) -> None:
    requests = read_requests({annotation(Request.PROMOTE): value})
    assert PendingRequests(requests).command() is command


def test_the_value_still_starts_with_the_person_as_the_request_policy_reads_it() -> None:
    # The chart's request policy admits a JSON value only when it starts {"by": "<user>".
    assert request_value(by="alice", full=True).startswith('{"by": "alice"')
