"""Canary replicas for a step's weight, without a service mesh.

The weight is the canary's share of Ready pods behind the same Service: ``canary / (stable +
canary)``. Replicas are whole numbers, so the share is the closest one reachable, never zero (a
step with no canary pod analyses nothing) and reported as it really is.
"""

from __future__ import annotations

import math


def canary_replicas(stable_replicas: int, weight_percent: float) -> int:
    """Canary replicas whose share of all pods is closest to ``weight_percent``; at least 1.

    Ties go to fewer canary pods: exposing fewer users is the safer error.
    """
    if not 0 < weight_percent < 100:
        raise ValueError(
            f"a step's weight must be strictly between 0 and 100, not {weight_percent}"
        )
    if stable_replicas < 0:
        raise ValueError(f"stable replicas cannot be negative: {stable_replicas}")
    if stable_replicas == 0:
        return 1
    share = weight_percent / 100
    exact = share * stable_replicas / (1 - share)
    candidates = {max(1, math.floor(exact)), max(1, math.ceil(exact))}
    return min(
        candidates,
        key=lambda c: (abs(actual_weight_percent(stable_replicas, c) - weight_percent), c),
    )


def actual_weight_percent(stable_replicas: int, canary_replicas: int) -> float:
    """The canary's share of pods, in percent, as status reports it."""
    total = stable_replicas + canary_replicas
    return 0.0 if total == 0 else 100 * canary_replicas / total
