"""Credentials never leave in text that came from outside: the configured secrets in any form a
server echoes them, whatever follows Bearer or Basic in any case, an Authorization header quoted
back, and the user part of a URL; the rest of the text stays readable."""

from __future__ import annotations

import base64

import pytest

from slokeeper.transport.redaction import (
    REDACTED,
    basic_auth_secrets,
    redact,
    url_secrets,
    without_credentials,
)

TOKEN = "s3cr3t-t0ken.with/slash+plus="


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {TOKEN}",
        f"authorization: bearer {TOKEN}",
        f"AUTHORIZATION=BEARER {TOKEN}",
        f'{{"headers":{{"Authorization":"Bearer {TOKEN}"}}}}',
        f"bad token {TOKEN} refused",
        "token=s3cr3t-t0ken.with%2Fslash%2Bplus%3D in the query",
        f"Bearer\t{TOKEN}",
    ],
)
def test_the_configured_token_never_survives(text: str) -> None:
    redacted = redact(text, [TOKEN])
    assert "s3cr3t" not in redacted, redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    ["invalid: Bearer abc.def.ghi", "BASIC dXNlcjpwYXNz was refused", "got bEaReR xyz123"],
)
def test_whatever_follows_bearer_or_basic_goes_without_knowing_the_secret(text: str) -> None:
    redacted = redact(text)
    assert not any(secret in redacted for secret in ("abc.def", "dXNlcjpwYXNz", "xyz123"))


def test_a_basic_auth_password_goes_raw_and_as_its_header_value() -> None:
    pair = base64.b64encode(b"alice:hunter22").decode()
    text = f"user alice password hunter22 header {pair}"
    redacted = redact(text, basic_auth_secrets("alice", "hunter22"))
    assert "hunter22" not in redacted
    assert pair not in redacted
    assert "user alice" in redacted  # a user name is no secret


def test_a_url_loses_its_user_part() -> None:
    url = "https://bob:pa%40ss@prometheus.example:9090/api"
    assert without_credentials(url) == "https://prometheus.example:9090/api"
    redacted = redact(f"could not reach {url}", url_secrets(url))
    assert "pa%40ss" not in redacted
    assert "pa@ss" not in redacted
    assert "bob" not in redacted
    assert "prometheus.example:9090/api" in redacted


def test_text_without_credentials_is_left_as_it_was() -> None:
    text = 'parse error at char 12: unexpected "}" in bearing(x) and basically fine'
    assert redact(text, ["", "unrelated"]) == text
