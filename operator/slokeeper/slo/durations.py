"""Prometheus durations (``5m``, ``1h30m``, ``28d``) as seconds, and back."""

from __future__ import annotations

import re
from functools import lru_cache

UNIT_SECONDS = {
    "y": 365 * 86400,
    "w": 7 * 86400,
    "d": 86400,
    "h": 3600,
    "m": 60,
    "s": 1,
    "ms": 0.001,
}
_DURATION = re.compile(r"^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$")
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


def duration_seconds(duration: str) -> float:
    """Seconds in a Prometheus duration; ValueError for anything Prometheus would refuse."""
    if not _DURATION.match(duration):
        raise ValueError(f"{duration!r} is not a Prometheus duration such as 30s, 5m, 1h or 28d")
    return float(sum(int(count) * UNIT_SECONDS[unit] for count, unit in _PART.findall(duration)))


@lru_cache(maxsize=1024)  # a few window lengths, formatted for every SLO every cycle
def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for a whole number of seconds (4m40s, 1h, 2d12h)."""
    remaining = round(seconds)
    if remaining <= 0:
        raise ValueError(f"a window must be at least one second, not {seconds}s")
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = int(UNIT_SECONDS[unit])
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
