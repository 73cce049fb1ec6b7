"""What a promote request asks of the state machine: one step, every step, or every step past
the gates, as `slokeeper rollout promote [--full|--force]` writes it and the operator reads it.
A value without "step" keeps its old meaning (every remaining step), so an annotation set by
hand or by a pipeline before promote took one step still does what it did."""

from __future__ import annotations

import pytest

from slokeeper.kube.rollout_commands import annotation, read_requests, request_value
from slokeeper.rollout.requests import PendingRequests, Request
from slokeeper.rollout.states import Command


@pytest.mark.parametrize(
    ("value", "command"),
    [
        (request_value(by="alice", one_step=True), Command.PROMOTE_STEP),
        (request_value(by="alice"), Command.PROMOTE),
        (request_value(by="alice", force=True), Command.FORCE_PROMOTE),
        ("alice: looks fine", Command.PROMOTE),  # `kubectl annotate` by hand, as before
        ('{"by": "alice", "reason": "looks fine"}', Command.PROMOTE),
    ],
)
def test_a_promote_is_of_every_step_unless_it_asks_for_one(value: str, command: Command) -> None:
    requests = read_requests({annotation(Request.PROMOTE): value})
    assert PendingRequests(requests).command() is command


def test_the_value_still_starts_with_the_person_as_the_request_policy_reads_it() -> None:
    # The chart's request policy admits a JSON value only when it starts {"by": "<user>".
    assert request_value(by="alice", one_step=True).startswith('{"by": "alice"')
