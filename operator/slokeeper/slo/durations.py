"""Prometheus durations (``5m``, ``1h30m``, ``28d``) as seconds, and back."""

from __future__ import annotations

import re

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
