"""Request annotations: what `slokeeper rollout …` writes is what the operator reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from slokeeper.kube.rollout_commands import (
    PAUSED_ANNOTATION,
    annotation,
    read_pause,
    read_requests,
    read_role_approvals,
    request_value,
    role_annotation,
    role_approval_value,
)
from slokeeper.rollout.requests import Request


def test_what_the_cli_writes_the_operator_reads() -> None:
    value = request_value(by="alice", reason="INC-7", force=True)
    read = read_requests({annotation(Request.PROMOTE): value})[Request.PROMOTE]
    assert (read.by, read.reason, read.force) == ("alice", "INC-7", True)


def test_plain_text_is_signed_and_unknown_annotations_are_ignored() -> None:
    read = read_requests({"slokeeper.dev/abort": "oidc:alice: wrong build", "other/x": "x"})
    assert list(read) == [Request.ABORT]
    assert (read[Request.ABORT].by, read[Request.ABORT].reason) == ("oidc:alice", "wrong build")


def test_paused_is_a_state_true_or_signed_and_false_is_not_paused() -> None:
    assert read_pause({PAUSED_ANNOTATION: "true"}) is not None
    signed = read_pause({PAUSED_ANNOTATION: request_value(by="dave", reason="dashboards")})
    assert signed is not None
    assert signed.signed() == "dave: dashboards"
    assert read_pause({PAUSED_ANNOTATION: "false"}) is None
    assert read_pause({}) is None


def test_approvals_in_a_role_name_their_giver_first_and_are_no_plain_approval() -> None:
    annotations = {
        role_annotation("on-call"): role_approval_value(by="dana", reason="paged in: all good"),
        role_annotation("engineering-manager"): "carol",
    }
    approvals = read_role_approvals(annotations)
    assert (approvals["on-call"].by, approvals["on-call"].reason) == ("dana", "paged in: all good")
    assert (approvals["engineering-manager"].by, approvals["engineering-manager"].reason) == (
        "carol",
        "",
    )
    assert approvals["on-call"].role == "on-call"
    assert read_requests(annotations) == {}


def test_a_username_with_colons_approves_in_a_role_whole() -> None:
    found = read_role_approvals(
        {
            "slokeeper.dev/approve.on-call": "oidc:alice: paged in: looks fine",
            "slokeeper.dev/approve.peer": "system:serviceaccount:ci:deployer",
        }
    )
    assert (found["on-call"].by, found["on-call"].reason) == ("oidc:alice", "paged in: looks fine")
    assert (found["peer"].by, found["peer"].reason) == ("system:serviceaccount:ci:deployer", "")


def test_a_reason_too_long_for_status_is_cut_not_fatal() -> None:
    long = "x" * 5000
    asked = read_requests(
        {"slokeeper.dev/abort": json.dumps({"by": "b" * 400, "reason": long}),
         "slokeeper.dev/retry": f"carol: {long}"}
    )  # fmt: skip
    assert (len(asked[Request.ABORT].by), len(asked[Request.ABORT].reason)) == (253, 1024)
    assert len(asked[Request.RETRY].reason) == 1024
    approvals = read_role_approvals({"slokeeper.dev/approve.on-call": f"carol: {long}"})
    assert len(approvals["on-call"].reason) == 1024


def test_an_approval_in_a_role_carries_when_the_api_server_says_it_was_set() -> None:
    key = "slokeeper.dev/approve.on-call"
    metadata = {
        "managedFields": [
            {"manager": "kopf", "time": "2026-12-01T07:00:00Z", "fieldsV1": {"f:metadata": {}}},
            {
                "manager": "kubectl-annotate",
                "time": "2026-12-01T07:10:05Z",
                "fieldsV1": {"f:metadata": {"f:annotations": {f"f:{key}": {}}}},
            },
        ]
    }
    found = read_role_approvals({key: "bob: ok"}, metadata)["on-call"]
    assert found.given_at == datetime(2026, 12, 1, 7, 10, 5, tzinfo=UTC)
    assert read_role_approvals({key: "bob: ok"})["on-call"].given_at is None
