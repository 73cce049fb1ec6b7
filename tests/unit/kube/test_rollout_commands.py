"""Request annotations: what `slokeeper rollout …` writes is what the operator reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from slokeeper.kube.rollout_commands import (
    PAUSED_ANNOTATION,
    AnnotationRequests,
    annotation,
    checked_requests,
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


@pytest.mark.parametrize(
    ("value", "why"),
    [
        # The API server's policy reads mallory at the start; a parser keeps the last key.
        ('{"by": "mallory", "by": "carol", "reason": "INC-1"}', "repeats the key by"),
        ('{"by": "mallory", "b\\u0079": "carol"}', "repeats the key by"),
        ('{"by": "mallory", "force" :true}', "not written as slokeeper rollout writes it"),
        ('{"by": "mallory", "\\u0066orce": true}', "not written as slokeeper rollout writes it"),
        ('{"by": "mallory",\t"force": true}', "not written as slokeeper rollout writes it"),
        ('{"reason": "x", "by": "mallory"}', "not written as slokeeper rollout writes it"),
        ('{"by": "mallory", "force": "yes"}', "its force is not a bool"),
        ('{"by": "mallory", "extra": 1}', "not written as slokeeper rollout writes it"),
        ('{"by": "mal\\"lory"}', "not a username"),
        ('{"by": "mallory"', "not JSON"),
        ("{}", "not a username"),
    ],
)
def test_json_in_another_form_than_the_cli_writes_is_refused_never_read(
    value: str, why: str
) -> None:
    requests, refused = checked_requests({annotation(Request.PROMOTE): value})
    assert requests == {}
    assert [(r.key, r.value) for r in refused] == [("slokeeper.dev/promote", value)]
    assert why in refused[0].why


def test_the_cli_form_and_the_same_without_spaces_are_read() -> None:
    written = request_value(by="alice", reason="INC 7 é", force=True, revision="abc")
    compact = json.dumps(json.loads(written), separators=(",", ":"), ensure_ascii=False)
    for value in (written, compact):
        read = read_requests({annotation(Request.PROMOTE): value})[Request.PROMOTE]
        assert (read.by, read.reason, read.force) == ("alice", "INC 7 é", True)
        assert read.revision == "abc"
    assert '"force": true' in written  # the text the overrides policy looks for
    assert "é" in written  # as the API server compares it with the username


def test_a_refused_request_is_removed_with_the_others_and_a_pause_still_holds() -> None:
    reader = AnnotationRequests()
    forged = '{"by": "mallory", "by": "carol"}'
    pending = reader.read(
        {"annotations": {"slokeeper.dev/override": forged, PAUSED_ANNOTATION: forged}}
    )
    assert pending.requests == {}
    assert reader.keys(pending) == ["slokeeper.dev/override"]
    assert pending.pause is not None
    assert pending.pause.by == ""
    assert "repeats the key by" in pending.pause.reason
