"""Alertmanager's silence API (v2): list, create and expire the silences slokeeper makes."""

from __future__ import annotations

from datetime import UTC

import requests

from slokeeper.slo.maintenance import Silence, SilenceRequest


class AlertmanagerError(RuntimeError):
    """Alertmanager did not answer, or refused; the message says which and why."""


class AlertmanagerSilences:
    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: object = None) -> requests.Response:
        try:
            response = self.session.request(
                method, f"{self.url}/api/v2/{path}", timeout=self.timeout_seconds, json=body
            )
        except requests.RequestException as error:
            raise AlertmanagerError(
                f"Alertmanager at {self.url} did not answer: {error}"
            ) from error
        if response.status_code >= 400:
            raise AlertmanagerError(
                f"Alertmanager refused {method} /api/v2/{path}: HTTP {response.status_code} "
                f"{response.text.strip()[:300]}"
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
