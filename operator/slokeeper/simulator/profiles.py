"""Traffic profiles chosen by container image: healthy, failing (``-bad``) or slow (``-slow``)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

# Histogram bucket boundaries in seconds, as a typical HTTP service exports them.
BUCKETS = (0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0)

# Share of a healthy service's requests at or below each latency (seconds): p50 50 ms,
# p90 100 ms, p99 250 ms, p99.9 500 ms.
HEALTHY_LATENCY = ((0.0, 0.0), (0.05, 0.5), (0.1, 0.9), (0.25, 0.99), (0.5, 0.999), (1.0, 1.0))


@dataclass(frozen=True)
class Profile:
    """How a version behaves: its error ratio, how much slower than healthy it is, and what
    share of a pod's usual traffic reaches it."""

    name: str
    error_ratio: float
    latency_factor: float = 1.0
    traffic_share: float = 1.0

    def share_at_or_below(self, seconds: float) -> float:
        """Share of requests served within ``seconds`` (the histogram's cumulative bucket)."""
        scaled = seconds / self.latency_factor
        points = [point for point, _ in HEALTHY_LATENCY]
        if scaled >= points[-1]:
            return 1.0
        index = bisect.bisect_right(points, scaled)
        (low, low_share), (high, high_share) = HEALTHY_LATENCY[index - 1], HEALTHY_LATENCY[index]
        return low_share + (high_share - low_share) * (scaled - low) / (high - low)


HEALTHY = Profile("healthy", error_ratio=0.0002)
PERFECT = Profile("perfect", error_ratio=0.0)
BAD = Profile("bad", error_ratio=0.2)
SLOW = Profile("slow", error_ratio=0.0002, latency_factor=5.0)
IDLE = Profile("idle", error_ratio=0.0002, traffic_share=0.0)


def profile_for(image: str) -> Profile:
    """``shop/checkout:1.2-bad`` fails 20 % of requests, ``…-slow`` is 5x slower, ``…-perfect``
    never fails (steady figures, for benchmarks of quiet cycles), ``…-idle`` is Ready but gets
    no requests (a version nothing routes to), anything else is healthy."""

    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    if tag.endswith("-bad"):
        return BAD
    if tag.endswith("-slow"):
        return SLOW
    if tag.endswith("-perfect"):
        return PERFECT
    if tag.endswith("-idle"):
        return IDLE
    return HEALTHY
