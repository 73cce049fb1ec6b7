"""One analysis of a canary step: Pass, Fail, or which kind of "no verdict", with every figure.

Outcomes are kept apart because each calls for a different response: a configuration error
(QueryInvalid) is never retried as if transient, an unreachable Prometheus is, too little traffic
waits for more. Zero errors on enough traffic is a Pass; nothing missing ever passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from slokeeper.rollout.significance import DEFAULT_CONFIDENCE, compare_error_ratios


class Outcome(StrEnum):
    PASS = "Pass"  # noqa: S105 - an analysis outcome, not a password
    FAIL = "Fail"
    NOT_ENOUGH_TRAFFIC = "NotEnoughTraffic"
    PROMETHEUS_UNREACHABLE = "PrometheusUnreachable"
    QUERY_INVALID = "QueryInvalid"


@dataclass(frozen=True)
class SLOEvidence:
    """What Prometheus said about one referenced SLO's SLI, for canary and stable pods."""

    slo: str
    allowed_error_ratio: float
    max_burn_rate: float
    canary_errors: float | None
    canary_requests: float | None
    stable_errors: float | None = None
    stable_requests: float | None = None


@dataclass(frozen=True)
class CheckEvidence:
    """An extra PromQL check's value and bounds."""

    name: str
    value: float | None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float | None
    threshold: float | None
    passed: bool | None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    message: str
    canary_requests: float | None = None
    measurements: tuple[Measurement, ...] = ()


def _slo_measurements(evidence: SLOEvidence, confidence: float) -> list[Measurement]:
    errors, requests = evidence.canary_errors or 0.0, evidence.canary_requests or 0.0
    burn = (errors / requests) / evidence.allowed_error_ratio
    found = [
        Measurement(
            f"slo/{evidence.slo} canary burn rate",
            round(burn, 3),
            evidence.max_burn_rate,
            burn <= evidence.max_burn_rate,
        )
    ]
    if evidence.stable_requests:
        comparison = compare_error_ratios(
            errors, requests, evidence.stable_errors or 0.0, evidence.stable_requests, confidence
        )
        found.append(
            Measurement(
                f"slo/{evidence.slo} canary worse than stable (p-value)",
                round(comparison.p_value, 6),
                round(1 - confidence, 6),
                not comparison.worse,
            )
        )
    return found


def _check_measurement(check: CheckEvidence) -> Measurement:
    value = check.value
    assert value is not None  # callers filter checks without data first
    within = (check.minimum is None or value >= check.minimum) and (
        check.maximum is None or value <= check.maximum
    )
    threshold = check.maximum if check.maximum is not None else check.minimum
    return Measurement(f"check/{check.name}", value, threshold, within)


def analyse(
    slos: tuple[SLOEvidence, ...],
    checks: tuple[CheckEvidence, ...],
    min_request_count: float,
    *,
    problem: Outcome | None = None,
    problem_message: str = "",
    confidence: float = DEFAULT_CONFIDENCE,
) -> Verdict:
    """The verdict of one analysis. ``problem`` is what the Prometheus adapter ran into, if any."""
    if problem in (Outcome.QUERY_INVALID, Outcome.PROMETHEUS_UNREACHABLE):
        return Verdict(problem, problem_message)
    if problem is not None:
        raise ValueError(f"{problem} is a verdict, not a problem the adapter can report")
    counted = [s.canary_requests for s in slos if s.canary_requests is not None]
    canary_requests = min(counted) if counted else None
    if slos and (canary_requests is None or canary_requests < min_request_count):
        seen = 0 if canary_requests is None else round(canary_requests)
        return Verdict(
            Outcome.NOT_ENOUGH_TRAFFIC,
            f"The canary served {seen} requests; {min_request_count:g} are needed for a verdict.",
            canary_requests,
        )
    silent = [check.name for check in checks if check.value is None]
    if silent:
        return Verdict(
            Outcome.NOT_ENOUGH_TRAFFIC,
            f"No data from check(s) {', '.join(silent)}.",
            canary_requests,
        )
    measurements = tuple(
        [m for s in slos for m in _slo_measurements(s, confidence)]
        + [_check_measurement(check) for check in checks]
    )
    failed = [m for m in measurements if m.passed is False]
    if failed:
        figures = "; ".join(
            f"{m.name} = {m.value:g} (limit {m.threshold:g})"
            for m in failed
            if m.value is not None and m.threshold is not None
        )
        return Verdict(Outcome.FAIL, f"Failed: {figures}.", canary_requests, measurements)
    return Verdict(Outcome.PASS, "Every check passed.", canary_requests, measurements)
