"""Alertmanager's silence API (v2): list, create and expire the silences slokeeper makes.

Every call has a total deadline and reads no answer larger than ``max_response_bytes``
(``transport``); what Alertmanager (or a proxy) says in an error is redacted of credentials
before it becomes a message.
"""

from __future__ import annotations

from datetime import UTC

import requests

from slokeeper.slo.maintenance import Silence, SilenceRequest
from slokeeper.transport.deadline import total_deadline
from slokeeper.transport.no_answer import no_answer_reason
from slokeeper.transport.redaction import redact, url_secrets, without_credentials
from slokeeper.transport.response_limit import DEFAULT_MAX_RESPONSE_BYTES, bounded_session


class AlertmanagerError(RuntimeError):
    """Alertmanager did not answer, or refused; the message says which and why."""


class AlertmanagerSilences:
    def __init__(
        self,
        url: str,
        timeout_seconds: float = 10.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.url = url.rstrip("/")
        self.shown_url = without_credentials(self.url)
        self.timeout_seconds = timeout_seconds
        self.session = bounded_session(requests.Session(), max_response_bytes)

    def _call(self, method: str, path: str, body: object = None) -> requests.Response:
        secrets = url_secrets(self.url)
        try:
            with total_deadline(self.timeout_seconds):
                response = self.session.request(
                    method, f"{self.url}/api/v2/{path}", timeout=self.timeout_seconds, json=body
                )
        except requests.RequestException as error:
            reason = redact(no_answer_reason(error), secrets)
            raise AlertmanagerError(
                f"Alertmanager at {self.shown_url} did not answer: {reason}"
            ) from error
        if response.status_code >= 400:
            said = redact(response.text.strip()[:300], secrets)
            raise AlertmanagerError(
                f"Alertmanager refused {method} /api/v2/{path}: HTTP {response.status_code} {said}"
            )
        return response

    def list(self) -> list[Silence]:
        return [
            Silence(
                id=item["id"],
                comment=item.get("comment", ""),
                created_by=item.get("createdBy", ""),
                state=item.get("status", {}).get("state", ""),
            )
            for item in self._call("GET", "silences").json()
        ]

    def create(self, request: SilenceRequest) -> str:
        body = {
            "matchers": [
                {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": True}
                for m in request.matchers
            ],
            "startsAt": request.starts_at.astimezone(UTC).isoformat(),
            "endsAt": request.ends_at.astimezone(UTC).isoformat(),
            "createdBy": request.created_by,
            "comment": request.comment,
        }
        silence_id: str = self._call("POST", "silences", body).json()["silenceID"]
        return silence_id

    def expire(self, silence_id: str) -> None:
        self._call("DELETE", f"silence/{silence_id}")
