"""How a version of the demo application behaves, read from its environment: which requests
fail and how long each takes. Pure: the server asks it per request and sleeps and answers.

The profiles are the traffic simulator's (healthy, bad, slow, perfect), so a real canary and a
simulated one mean the same thing; the environment of the pod template chooses one, and any of
its figures can be set on its own:

- ``PROFILE``: healthy (default), bad (20 % errors), slow (5x latency), perfect (no errors),
  crash (exits at start, for a canary in CrashLoopBackOff);
- ``ERROR_RATIO``: share of requests answered 500 (overrides the profile's);
- ``LATENCY_FACTOR``: how many times slower than healthy (overrides the profile's);
- ``VERSION``: shown in responses and in ``demoapp_build_info``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass

# Histogram bucket boundaries in seconds: the simulator's, so the SLO queries read both alike.
BUCKETS = (0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0)

# Share of a healthy version's requests at or below each latency (seconds): p50 50 ms,
# p90 100 ms, p99 250 ms, p99.9 500 ms, none over 1 s.
HEALTHY_LATENCY = ((0.0, 0.0), (0.05, 0.5), (0.1, 0.9), (0.25, 0.99), (0.5, 0.999), (1.0, 1.0))

# Evenly spread points in [0, 1): request n takes the latency at quantile frac(n * φ⁻¹), so a
# few hundred requests already follow the distribution without a random generator.
_GOLDEN = (math.sqrt(5) - 1) / 2


class ConfigurationError(ValueError):
    """An environment variable holds something the demo app cannot use."""


@dataclass(frozen=True)
class Behaviour:
    """One version's behaviour: its name, error ratio and slowness."""

    version: str
    profile: str
    error_ratio: float
    latency_factor: float
    crash: bool = False

    def fails(self, request_number: int) -> bool:
        """Whether request ``request_number`` (0, 1, 2, …) is answered 500.

        Errors are spread evenly: after n requests exactly floor(n * error_ratio) failed.
        """
        before = math.floor(request_number * self.error_ratio + 1e-9)
        after = math.floor((request_number + 1) * self.error_ratio + 1e-9)
        return after > before

    def latency(self, request_number: int) -> float:
        """Seconds request ``request_number`` takes: the healthy distribution, scaled."""
        quantile = (request_number * _GOLDEN) % 1.0
        return latency_at(quantile) * self.latency_factor


def latency_at(quantile: float) -> float:
    """The healthy latency (seconds) at ``quantile`` of HEALTHY_LATENCY (linear between points)."""
    shares = [share for _, share in HEALTHY_LATENCY]
    index = min(bisect.bisect_right(shares, quantile), len(HEALTHY_LATENCY) - 1)
    (low, low_share), (high, high_share) = HEALTHY_LATENCY[index - 1], HEALTHY_LATENCY[index]
    return low + (high - low) * (quantile - low_share) / (high_share - low_share)


PROFILES: dict[str, tuple[float, float]] = {
    # name: (error ratio, latency factor)
    "healthy": (0.0002, 1.0),
    "perfect": (0.0, 1.0),
    "bad": (0.2, 1.0),
    "slow": (0.0002, 5.0),
    "crash": (0.0, 1.0),
}


def behaviour_from(environment: Mapping[str, str]) -> Behaviour:
    """The behaviour the environment asks for (see the module's docstring)."""
    profile = environment.get("PROFILE", "healthy").strip().lower() or "healthy"
    if profile not in PROFILES:
        raise ConfigurationError(f"PROFILE={profile!r}: use one of {', '.join(PROFILES)}")
    error_ratio, latency_factor = PROFILES[profile]
    error_ratio = _number(environment, "ERROR_RATIO", error_ratio)
    latency_factor = _number(environment, "LATENCY_FACTOR", latency_factor)
    if not 0.0 <= error_ratio <= 1.0:
        raise ConfigurationError(f"ERROR_RATIO={error_ratio}: give a share between 0 and 1")
    if latency_factor <= 0:
        raise ConfigurationError(f"LATENCY_FACTOR={latency_factor}: give a positive number")
    return Behaviour(
        version=environment.get("VERSION", "unversioned"),
        profile=profile,
        error_ratio=error_ratio,
        latency_factor=latency_factor,
        crash=profile == "crash",
    )


def _number(environment: Mapping[str, str], name: str, default: float) -> float:
    raw = environment.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
