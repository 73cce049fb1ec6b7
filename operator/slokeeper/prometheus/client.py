"""The PromQL client: instant queries with a timeout, and errors sorted by what they mean.

The timeout is a total deadline on each query, retries included (``transport.deadline``): a
Prometheus that answers one byte a second is as unreachable as one that does not answer. No answer
is read past ``max_response_bytes`` (``transport.response_limit``): a larger one is reported as
an unreachable Prometheus. What Prometheus (or a proxy) says in an error goes through
``transport.redaction`` first: an echoed token never reaches a message.

A query Prometheus rejects (``bad_data``: a typo in a user's PromQL) is a configuration error and
must not be retried as if it were transient; a Prometheus that is down, slow or overloaded is.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import requests.auth
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import (
    MAX_REQUEST_RETRIES,
    RETRY_BACKOFF_FACTOR,
    RETRY_ON_STATUS,
)

from slokeeper.transport.deadline import DeadlineRetry, total_deadline
from slokeeper.transport.no_answer import no_answer_reason
from slokeeper.transport.redaction import Credentials, redact, url_secrets, without_credentials
from slokeeper.transport.response_limit import DEFAULT_MAX_RESPONSE_BYTES, bounded_session

__all__ = ["without_credentials"]  # where the CLI and older callers found it


class PrometheusUnreachableError(RuntimeError):
    """Prometheus did not answer (down, slow, overloaded); worth retrying later."""


class QueryRejectedError(ValueError):
    """Prometheus refused the query itself; the message is Prometheus' own."""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[datetime, float]]


def _upstream_error(error: PrometheusApiClientException) -> tuple[int | None, str]:
    """Status code and Prometheus' own error text, out of the client's exception message.

    The client formats it as ``HTTP Status Code 400 (b'{"status":"error",...}')``.
    """
    text = str(error)
    match = re.match(r"HTTP Status Code (\d+) \((b'.*'|b\".*\")\)$", text, re.DOTALL)
    if match is None:
        return None, text
    code = int(match.group(1))
    try:
        body = json.loads(ast.literal_eval(match.group(2)))
    except (ValueError, SyntaxError):
        return code, text
    return code, str(body.get("error", text)) if isinstance(body, dict) else text


class PrometheusClient:
    """Instant queries against a Prometheus-compatible HTTP API."""

    def __init__(
        self,
        url: str,
        timeout_seconds: float = 10.0,
        headers: dict[str, str] | None = None,
        verify: bool | str = True,
        auth: requests.auth.AuthBase | None = None,
        *,
        query_params: Sequence[tuple[str, str]] = (),
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        session = requests.Session()
        session.verify = verify
        # A backend's own parameters (partial_response=false, dedup=true …) go on every request
        # the session sends; a request's own (query, time, timeout …) win over them. A name may
        # repeat (Thanos' replicaLabels): requests sends each value of a list.
        extra: dict[str, list[str]] = {}
        for key, value in query_params:
            extra.setdefault(key, []).append(value)
        session.params = extra
        self.query_params = tuple(query_params)
        self.url = url
        self.shown_url = without_credentials(url)
        self.timeout_seconds = timeout_seconds
        self.max_response_bytes = max_response_bytes
        self._headers = dict(headers or {})
        self._auth = auth
        self._session = session
        # The library's retries, but none that would start past the query's deadline.
        retry = DeadlineRetry(
            total=MAX_REQUEST_RETRIES,
            backoff_factor=RETRY_BACKOFF_FACTOR,
            status_forcelist=RETRY_ON_STATUS,
        )
        self._connection = PrometheusConnect(
            url=url,
            headers=headers,
            auth=auth,
            session=session,
            timeout=int(max(1, timeout_seconds)),
            retry=retry,
            method="POST",
        )
        # In place of the library's own adapter: deadlines, and no answer read past the cap.
        bounded_session(session, max_response_bytes, url, max_retries=retry)
        self.queries = 0

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        """The instant vector of ``promql`` now (or ``at``); scalars come back as one unlabelled
        sample."""
        params = {"timeout": f"{int(self.timeout_seconds * 1000)}ms"}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        result = self._answer(lambda: self._connection.custom_query(promql, params=params))
        with self._parsing():
            if result and not isinstance(result[0], dict):
                return [Sample({}, float(result[1]))]  # a scalar: [timestamp, "value"]
            return [
                Sample(_labels(item.get("metric", {})), float(item["value"][1])) for item in result
            ]

    def query_range(
        self, promql: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Series]:
        """Each series of ``promql`` evaluated every ``step_seconds`` from ``start`` to ``end``."""
        result = self._answer(
            lambda: self._connection.custom_query_range(
                promql,
                start_time=start,
                end_time=end,
                step=f"{max(1.0, step_seconds):.0f}s",
                params={"timeout": f"{int(self.timeout_seconds * 1000)}ms"},
            )
        )
        with self._parsing():
            return [
                Series(
                    _labels(item.get("metric", {})),
                    [(datetime.fromtimestamp(float(t), UTC), float(v)) for t, v in item["values"]],
                )
                for item in result
            ]

    def evaluated_recording_rules(self, name: str) -> list[dict[str, str]] | None:
        """The labels of every recording rule named ``name`` that Prometheus has evaluated, its
        last evaluation without error (``/api/v1/rules``, one request). None when that is not
        known: a backend that serves no rules API, or an answer that is not one."""
        self.queries += 1
        params = [("type", "record"), ("rule_name[]", name), ("exclude_alerts", "true")]
        try:
            with total_deadline(self.timeout_seconds):
                response = self._session.get(
                    f"{self.url.rstrip('/')}/api/v1/rules",
                    params=params,
                    headers=self._headers,
                    auth=self._auth,
                    timeout=self.timeout_seconds,
                )
            if response.status_code != 200:
                return None
            groups = response.json()["data"]["groups"]
            return [
                _labels(rule.get("labels", {}))
                for group in groups
                for rule in group["rules"]
                if rule.get("name") == name
                and rule.get("health") == "ok"
                and not str(rule.get("lastEvaluation", "0001")).startswith("0001")
            ]
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _secrets(self) -> list[str]:
        """What this client sends that must never be shown."""
        found = [v for k, v in self._headers.items() if k.lower() == "authorization"]
        found += url_secrets(self.url)
        if isinstance(self._auth, Credentials):
            with contextlib.suppress(OSError):  # the file is gone: the patterns still apply
                found += self._auth.secrets()
        return found

    def _redacted(self, text: str) -> str:
        return redact(text, self._secrets())

    @contextlib.contextmanager
    def _parsing(self) -> Iterator[None]:
        """A result that is not one (a proxy's page, a mangled body) is no answer."""
        try:
            yield
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise PrometheusUnreachableError(
                f"Prometheus at {self.shown_url} answered something that is not a query result "
                f"({type(error).__name__})"
            ) from None

    def _answer(self, ask: Callable[[], Any]) -> Any:
        self.queries += 1
        try:
            with total_deadline(self.timeout_seconds):
                return ask()
        except requests.RequestException as error:
            reason = self._redacted(no_answer_reason(error))
            raise PrometheusUnreachableError(
                f"Prometheus at {self.shown_url} did not answer: {reason}"
            ) from error
        except PrometheusApiClientException as error:
            # Not chained: the library's message holds the whole body, credentials and all.
            code, message = _upstream_error(error)
            message = self._redacted(message)
            if code in (400, 422):
                raise QueryRejectedError(message) from None
            raise PrometheusUnreachableError(
                f"Prometheus at {self.shown_url} answered {code}: {message}"
            ) from None


def _labels(metric: Any) -> dict[str, str]:
    return {str(key): str(value) for key, value in dict(metric).items()}
