"""The DORA figures of one ChangeRollout, from its change records: how often changes ship, how
long a change takes from seen to promoted, how many fail, and how long service takes to be
restored after a failed one."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

FAILED_OUTCOMES = ("RolledBack", "Aborted")


@dataclass(frozen=True)
class FinishedChange:
    outcome: str
    seen: datetime
    finished: datetime | None = None
    restored: datetime | None = None


@dataclass(frozen=True)
class DeliveryFigures:
    lead_time_seconds: float | None
    change_failure_ratio: float | None
    time_to_restore_seconds: float | None


def delivery_figures(
    recent: Sequence[FinishedChange], counts: Mapping[str, int]
) -> DeliveryFigures:
    """Lead time and time to restore are medians over the recent records; the failure ratio is
    over every change that ever started here (superseded ones never ran to a verdict)."""
    lead_times = [
        (change.finished - change.seen).total_seconds()
        for change in recent
        if change.outcome == "Promoted" and change.finished
    ]
    restores = [
        (change.restored - change.finished).total_seconds()
        for change in recent
        if change.outcome in FAILED_OUTCOMES and change.finished and change.restored
    ]
    failed = sum(counts.get(outcome, 0) for outcome in FAILED_OUTCOMES)
    started = failed + counts.get("Promoted", 0)
    return DeliveryFigures(
        statistics.median(lead_times) if lead_times else None,
        failed / started if started else None,
        statistics.median(restores) if restores else None,
    )
