"""Credentials for Prometheus come from mounted files: a rotated token is used from the next
query on, and no message shows a secret."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.client import PrometheusUnreachableError, without_credentials
from stub_prometheus import StubPrometheus


def test_a_rotated_bearer_token_is_sent_from_the_next_query_on(
    stub_prometheus: StubPrometheus, tmp_path: Path
) -> None:
    url = stub_prometheus.url
    token = tmp_path / "token"
    token.write_text("first-token\n")
    client = PrometheusAccess(url, bearer_token_file=token).client()
    client.query("up")
    token.write_text("second-token\n")
    # The file's modification time is what says it changed; make sure it moves on this filesystem.
    stat = token.stat()
    os.utime(token, (stat.st_atime, stat.st_mtime + 5))
    client.query("up")
    assert stub_prometheus.authorizations == ["Bearer first-token", "Bearer second-token"]


def test_basic_auth_reads_its_password_from_a_file(
    stub_prometheus: StubPrometheus, tmp_path: Path
) -> None:
    url = stub_prometheus.url
    password = tmp_path / "password"
    password.write_text("s3cret")
    access = PrometheusAccess(
        url, basic_auth_username="slokeeper", basic_auth_password_file=password
    )
    access.client().query("up")
    expected = base64.b64encode(b"slokeeper:s3cret").decode()
    assert stub_prometheus.authorizations == [f"Basic {expected}"]


def test_token_and_basic_auth_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bearer token or basic auth, not both"):
        PrometheusAccess(
            "http://prometheus:9090",
            bearer_token_file=tmp_path / "t",
            basic_auth_username="u",
            basic_auth_password_file=tmp_path / "p",
        )
    with pytest.raises(ValueError, match="needs both a username and a password file"):
        PrometheusAccess("http://prometheus:9090", basic_auth_username="u")


def test_errors_name_the_server_without_the_credentials_in_its_url() -> None:
    assert without_credentials("https://ops:hunter2@prom.example:9090/x") == (
        "https://prom.example:9090/x"
    )
    client = PrometheusAccess("http://ops:hunter2@127.0.0.1:1", timeout_seconds=1).client()
    with pytest.raises(PrometheusUnreachableError) as raised:
        client.query("up")
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1:1" in str(raised.value)
