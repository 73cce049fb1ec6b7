"""Reads one SLO's SLI for the canary's pods and for stable's, as evidence for an analysis.

The SLO's own queries (the same ones its recording rules use) are narrowed to each side's pods
with an added ``pod`` matcher; counts are rates over the analysis window times its length.
Prometheus errors propagate as QueryRejectedError / PrometheusUnreachableError, which the rollout
loop turns into the QueryInvalid / PrometheusUnreachable outcomes.
"""

from __future__ import annotations

import math
from datetime import datetime

from slokeeper.prometheus.client import QueryRejectedError, Sample
from slokeeper.prometheus.slo_figures import InstantQueries
from slokeeper.rollout.analysis import CheckEvidence, SLOEvidence
from slokeeper.slo.objective import Objective
from slokeeper.slo.promql import add_matchers
from slokeeper.slo.rules import error_ratio_query, total_query


def canary_pods(target: str, pod_template_hash: str | None = None) -> str:
    """The regex of a canary's pods, ``<target>-canary-<pod-template-hash>-<suffix>``: with the
    hash, only the running canary's (a canary rolled back seconds ago still has samples inside
    the analysis window, and must not count against its successor)."""
    return f"{target}-canary-{pod_template_hash or '.*'}" + ("-.*" if pod_template_hash else "")


def _value(client: InstantQueries, query: str, at: datetime | None = None) -> float | None:
    samples: list[Sample] = client.query(query, at)
    if not samples or not math.isfinite(samples[0].value):
        return None
    return samples[0].value


def _narrowed(query: str, matchers: str) -> str:
    """The SLO's query on the pods the matchers select; a query that cannot be read as PromQL
    (an unterminated string) is refused like Prometheus would: QueryInvalid, not a crash."""
    if not matchers:
        return query
    try:
        return add_matchers(query, matchers)
    except ValueError as error:
        raise QueryRejectedError(f"the SLO's query cannot be narrowed to pods: {error}") from error


def _side(
    client: InstantQueries,
    objective: Objective,
    matchers: str,
    window_seconds: float,
    at: datetime | None = None,
) -> tuple[float | None, float | None]:
    """(errors, requests) of the SLO's SLI on the pods the matchers select."""
    total = _narrowed(total_query(objective, window_seconds), matchers)
    per_second = _value(client, total, at)
    if per_second is None:
        return None, None
    requests = per_second * window_seconds
    ratio = _value(client, _narrowed(error_ratio_query(objective, window_seconds), matchers), at)
    return (None if ratio is None else ratio * requests), requests


def slo_evidence(
    client: InstantQueries,
    objective: Objective,
    *,
    target: str,
    canary_regex: str,
    window_seconds: float,
    max_burn_rate: float,
    stable_pod_template_hash: str | None = None,
) -> SLOEvidence:
    """The canary's and stable's errors and requests for one SLO over the analysis window;
    stable's are its ReplicaSet's pods when ``stable_pod_template_hash`` is known."""
    canary = canary_regex
    canary_errors, canary_requests = _side(client, objective, f'pod=~"{canary}"', window_seconds)
    stable_pods = f"{target}-{stable_pod_template_hash or '.*'}-.*"
    stable = f'pod=~"{stable_pods}",pod!~"{canary_pods(target)}",pod!~"{canary}"'
    stable_errors, stable_requests = _side(client, objective, stable, window_seconds)
    return SLOEvidence(
        objective.name,
        allowed_error_ratio=objective.allowed_error_ratio,
        max_burn_rate=max_burn_rate,
        canary_errors=canary_errors,
        canary_requests=canary_requests,
        stable_errors=stable_errors,
        stable_requests=stable_requests,
    )


def check_evidence(
    client: InstantQueries,
    name: str,
    query: str,
    *,
    namespace: str,
    canary_regex: str,
    minimum: float | None,
    maximum: float | None,
) -> CheckEvidence:
    """An extra check's value, with ``{{.canaryPods}}`` and ``{{.namespace}}`` filled in."""
    promql = query.replace("{{.canaryPods}}", canary_regex).replace("{{.namespace}}", namespace)
    return CheckEvidence(name, _value(client, promql), minimum, maximum)


def budget_burned(
    client: InstantQueries,
    objective: Objective,
    *,
    canary_regex: str,
    change_seconds: float,
    window_seconds: float,
    at: datetime,
) -> tuple[float | None, float | None]:
    """(canary's bad events over the change, the SLO's budget in events over its window): what
    the change itself cost, in the SLO's own terms."""
    canary_errors, _ = _side(client, objective, f'pod=~"{canary_regex}"', change_seconds, at)
    _, window_events = _side(client, objective, "", window_seconds, at)
    budget = None if window_events is None else objective.allowed_error_ratio * window_events
    return canary_errors, budget
