"""What people ask of a change: abort, promote, retry, approve, override, a drill, or a pause;
each signed by who asked and why (the adapter reads them from annotations)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Request(StrEnum):
    ABORT = "abort"
    PROMOTE = "promote"
    RETRY = "retry"
    APPROVE = "approve"
    OVERRIDE = "override"
    DRILL = "drill"


@dataclass(frozen=True)
class PersonRequest:
    request: Request | None  # None: the pause annotation
    by: str = ""
    reason: str = ""
    force: bool = False
    revision: str | None = None
    role: str | None = None

    def signed(self) -> str:
        """``by: reason`` as Events and gate messages show it."""
        who = self.by or "someone"
        return f"{who}: {self.reason}" if self.reason else who
