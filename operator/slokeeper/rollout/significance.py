"""Is the canary worse than stable, beyond chance? A one-sided test on two error ratios.

H0: the canary's error ratio is at most stable's. The canary fails only when H0 is rejected at the
configured confidence (95 % by default). When both sides expect at least 10 errors and 10
successes under the pooled ratio, the two-proportion z-test is accurate and cheap:
    z = (p_canary - p_stable) / sqrt(p̂ (1 - p̂) (1/n_canary + 1/n_stable)),  p = 1 - Φ(z).
Below that the normal approximation wildly overstates significance (one error in 100 canary
requests against none in 1,000 stable would "fail" at p = 0.0008), so Fisher's exact test is used:
p = P(X ≥ canary errors) for X hypergeometric with the observed margins (p = 0.09 there).
The burn-rate check against the SLO catches a canary that is bad in absolute terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Comparison:
    canary_error_ratio: float
    stable_error_ratio: float
    z: float
    p_value: float
    worse: bool


LARGE_SAMPLE_COUNT = 10


def _normal_survival(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_one_sided(canary_errors: int, canary_requests: int, errors: int, requests: int) -> float:
    """P(at least ``canary_errors`` of all ``errors`` land among the canary's requests)."""
    most = min(errors, canary_requests)
    denominator = _log_comb(requests, canary_requests)
    return min(
        1.0,
        sum(
            math.exp(
                _log_comb(errors, k)
                + _log_comb(requests - errors, canary_requests - k)
                - denominator
            )
            for k in range(canary_errors, most + 1)
            if requests - errors >= canary_requests - k >= 0
        ),
    )


def compare_error_ratios(
    canary_errors: float,
    canary_requests: float,
    stable_errors: float,
    stable_requests: float,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Whether the canary fails more often than stable with the given confidence."""
    if canary_requests <= 0 or stable_requests <= 0:
        raise ValueError("both sides need requests to be compared")
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be within [0.5, 1), not {confidence}")
    canary = canary_errors / canary_requests
    stable = stable_errors / stable_requests
    pooled = (canary_errors + stable_errors) / (canary_requests + stable_requests)
    variance = pooled * (1 - pooled) * (1 / canary_requests + 1 / stable_requests)
    if variance <= 0:
        # Both sides error-free (or both all errors): no evidence either way.
        return Comparison(canary, stable, 0.0, 1.0, worse=False)
    z = (canary - stable) / math.sqrt(variance)
    expected = (
        pooled * canary_requests,
        (1 - pooled) * canary_requests,
        pooled * stable_requests,
        (1 - pooled) * stable_requests,
    )
    if min(expected) >= LARGE_SAMPLE_COUNT:
        p_value = _normal_survival(z)
    else:
        p_value = fisher_one_sided(
            round(canary_errors),
            round(canary_requests),
            round(canary_errors + stable_errors),
            round(canary_requests + stable_requests),
        )
    return Comparison(canary, stable, z, p_value, worse=p_value < 1 - confidence)
