"""How to reach Prometheus: its URL, credentials, CA and the query parameters a scale-out
backend takes (partial responses, deduplication: see ``query_params``), as the operator and the
CLI are told.

Credentials come from files (a mounted Secret), read again whenever the file changes, so a
rotated token takes effect without a restart. Nothing here puts a secret into a message, and the
client keeps the secrets these objects name out of the messages it makes (``secrets()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests
from requests.auth import AuthBase

from slokeeper.prometheus.client import PrometheusClient
from slokeeper.prometheus.query_params import (
    Dedup,
    PartialResponse,
    QueryParam,
    backend_query_params,
)
from slokeeper.transport.redaction import basic_auth_secrets
from slokeeper.transport.response_limit import DEFAULT_MAX_RESPONSE_BYTES


class _FileSecret:
    """A credential file, re-read when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._value = ""

    def value(self) -> str:
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            self._value = self.path.read_text().strip()
            self._mtime = mtime
        return self._value

    def __repr__(self) -> str:
        return f"<secret read from {self.path}>"


class BearerTokenFile(AuthBase):
    def __init__(self, path: Path) -> None:
        self._token = _FileSecret(path)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.value()}"
        return request

    def secrets(self) -> tuple[str, ...]:
        """The token, to be kept out of messages (``transport.redaction``)."""
        return (self._token.value(),)


class BasicAuthFile(AuthBase):
    def __init__(self, username: str, password_file: Path) -> None:
        self.username = username
        self._password = _FileSecret(password_file)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        prepared: requests.PreparedRequest = requests.auth.HTTPBasicAuth(
            self.username, self._password.value()
        )(request)
        return prepared

    def secrets(self) -> tuple[str, ...]:
        """The password and its header value, to be kept out of messages."""
        return basic_auth_secrets(self.username, self._password.value())


@dataclass(frozen=True)
class PrometheusAccess:
    url: str
    timeout_seconds: float = 10.0
    bearer_token_file: Path | None = None
    basic_auth_username: str | None = None
    basic_auth_password_file: Path | None = None
    ca_file: Path | None = None
    # Safe by default: no SLO figures from a partial answer, one series per HA pair.
    partial_response: PartialResponse = PartialResponse.DENY
    dedup: Dedup = Dedup.ON
    query_params: tuple[QueryParam, ...] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        if self.bearer_token_file and self.basic_auth_username:
            raise ValueError("Prometheus takes a bearer token or basic auth, not both")
        if bool(self.basic_auth_username) != bool(self.basic_auth_password_file):
            raise ValueError("basic auth needs both a username and a password file")
        self.backend_query_params()  # refuses a parameter the client sets itself

    def backend_query_params(self) -> tuple[QueryParam, ...]:
        """The parameters every query carries."""
        return backend_query_params(self.partial_response, self.dedup, self.query_params)

    def auth(self) -> AuthBase | None:
        if self.bearer_token_file:
            return BearerTokenFile(self.bearer_token_file)
        if self.basic_auth_username and self.basic_auth_password_file:
            return BasicAuthFile(self.basic_auth_username, self.basic_auth_password_file)
        return None

    def client(self) -> PrometheusClient:
        return PrometheusClient(
            self.url,
            timeout_seconds=self.timeout_seconds,
            verify=str(self.ca_file) if self.ca_file else True,
            auth=self.auth(),
            query_params=self.backend_query_params(),
            max_response_bytes=self.max_response_bytes,
        )
