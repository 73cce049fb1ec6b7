"""Status conditions in the Kubernetes convention: a transition time that moves only when the
condition's status does, and the generation it describes (what kstatus, Argo CD and Flux read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slokeeper.api.base import ConditionStatus


class ConditionWriter:
    """Builds conditions for one object, keeping transition times from its previous status."""

    def __init__(self, previous_status: dict[str, Any], generation: int, now: datetime) -> None:
        self._previous = {c["type"]: c for c in previous_status.get("conditions", [])}
        self._generation = generation
        self._now = now

    def condition(self, kind: str, true: bool, reason: str, message: str) -> dict[str, Any]:
        status = ConditionStatus.TRUE if true else ConditionStatus.FALSE
        old = self._previous.get(kind)
        since = old.get("lastTransitionTime") if old and old.get("status") == status else None
        return {
            "type": kind,
            "status": status.value,
            "reason": reason,
            "message": message,
            "lastTransitionTime": since or self._now.isoformat(),
            "observedGeneration": self._generation,
        }
