"""A Prometheus (or a proxy in front of it) that answers with hundreds of MB is reported like an
unreachable one, in a short message; one that echoes the request's Authorization header in its
error has the credentials redacted before the text becomes an exception message."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hostile_prometheus import HostilePrometheus
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.client import (
    PrometheusClient,
    PrometheusUnreachableError,
    QueryRejectedError,
)
from slokeeper.transport.response_limit import MIB

TOKEN = "tok-9f8e7d6c5b4a"


def test_a_huge_answer_is_no_answer() -> None:
    with HostilePrometheus(huge_bytes=512 * MIB) as server:
        client = PrometheusClient(server.url, max_response_bytes=4 * MIB)
        with pytest.raises(PrometheusUnreachableError) as raised:
            client.query("up")
        assert str(raised.value) == (
            f"Prometheus at {server.url} did not answer: "
            "answer larger than 4 MiB, the most slokeeper reads"
        )
        assert client.evaluated_recording_rules("x") is None  # unknown, not a failure


@pytest.mark.parametrize("status", [400, 403, 500])
def test_an_echoed_bearer_token_is_redacted(tmp_path: Path, status: int) -> None:
    (tmp_path / "token").write_text(TOKEN)
    with HostilePrometheus(error_status=status) as server:
        access = PrometheusAccess(
            server.url, timeout_seconds=2, bearer_token_file=tmp_path / "token"
        )
        with pytest.raises((QueryRejectedError, PrometheusUnreachableError)) as raised:
            access.client().query("up")
    assert server.authorizations[0] == f"Bearer {TOKEN}"  # it was sent, and echoed
    message = str(raised.value)
    assert TOKEN not in message
    assert raised.value.__cause__ is None or TOKEN not in str(raised.value.__cause__)
    if status == 400:
        assert "Authorization: [redacted]" in message, message


def test_an_echoed_basic_auth_password_is_redacted(tmp_path: Path) -> None:
    (tmp_path / "password").write_text("hunter22")
    with HostilePrometheus() as server:
        access = PrometheusAccess(
            server.url,
            basic_auth_username="alice",
            basic_auth_password_file=tmp_path / "password",
        )
        with pytest.raises(QueryRejectedError) as raised:
            access.client().query("up")
    pair = base64.b64encode(b"alice:hunter22").decode()
    assert server.authorizations[0] == f"Basic {pair}"
    assert pair not in str(raised.value)
    assert "hunter22" not in str(raised.value)


def test_evaluated_rules_are_those_prometheus_evaluated_without_error() -> None:
    groups = {
        "status": "success",
        "data": {
            "groups": [
                {
                    "rules": [
                        {"name": "r", "health": "ok", "lastEvaluation": "2026-01-01T00:00:00Z",
                         "labels": {"slo": "a", "slo_namespace": "n"}},
                        {"name": "r", "health": "err", "lastEvaluation": "2026-01-01T00:00:00Z",
                         "labels": {"slo": "b", "slo_namespace": "n"}},
                        {"name": "r", "health": "unknown", "lastEvaluation": "0001-01-01T00:00:00Z",
                         "labels": {"slo": "c", "slo_namespace": "n"}},
                        {"name": "other", "health": "ok", "lastEvaluation": "2026-01-01T00:00:00Z",
                         "labels": {"slo": "d", "slo_namespace": "n"}},
                    ]
                }
            ]
        },
    }  # fmt: skip
    with HostilePrometheus(answer=groups) as server:
        client = PrometheusClient(server.url)
        assert client.evaluated_recording_rules("r") == [{"slo": "a", "slo_namespace": "n"}]
        assert client.queries == 1
    assert ("type", "record") in server.params[0]
    assert ("rule_name[]", "r") in server.params[0]
