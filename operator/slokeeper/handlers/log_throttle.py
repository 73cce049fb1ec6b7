"""A failure that repeats on every tick (an API server down for minutes) is logged once a
minute per cause, with how often it recurred meanwhile, not as a traceback per tick: during an
outage the log must still show what else happened."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

EVERY_SECONDS = 60.0


@dataclass
class ThrottledLog:
    log: logging.Logger
    every_seconds: float = EVERY_SECONDS
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _muted: dict[str, int] = field(default_factory=dict)

    def failure(self, cause: str, message: str, *, traceback: bool = False) -> None:
        """Log ``message`` unless ``cause`` was logged within the minute. ``traceback`` adds
        the current exception's, on the first time only."""
        now = self.clock()
        last = self._last.get(cause)
        if last is not None and now - last < self.every_seconds:
            self._muted[cause] = self._muted.get(cause, 0) + 1
            return
        muted = self._muted.pop(cause, 0)
        suffix = f" ({muted} more since {now - last:.0f}s ago)" if last is not None else ""
        self.log.warning(
            "%s%s; repeats are logged once a minute",
            message,
            suffix,
            exc_info=traceback and last is None,
        )
        self._last[cause] = now
