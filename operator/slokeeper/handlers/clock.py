"""The rollout loop's clock, chosen by ``--clock-start`` (the composition root calls it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def rollout_clock(start: datetime | None) -> Callable[[], datetime]:
    """Real time, or time running on from ``start`` (to rehearse a change calendar without
    waiting for Tuesday 02:00)."""
    if start is None:
        return lambda: datetime.now(UTC)
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)
