"""Poll with a deadline and report what was seen: the only way tests wait for the cluster."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    observe: Callable[[], T],
    satisfied: Callable[[T], bool],
    what: str,
    timeout: float = 60,
    interval: float = 0.5,
) -> T:
    """Return the first observation that satisfies the predicate; fail with the last one seen."""
    deadline = time.monotonic() + timeout
    seen = observe()
    while not satisfied(seen):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen!r}"
            )
        time.sleep(interval)
        seen = observe()
    return seen
