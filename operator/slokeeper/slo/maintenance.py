"""Maintenance windows: which silences an SLO's burn-rate alerts need in Alertmanager, and what a
window cost the budget.

A silence is made for every window that has not ended (Alertmanager holds a future one as
pending and expires each at its ``endsAt`` by itself), so a window is silenced from its first
second even if the operator is down when it starts. Each silence carries a marker naming the SLO
and the window in its comment: after a restart, or a status write that failed after the silence
was made, the operator finds its silence instead of making a second one, and a window removed or
moved in the spec has its silence expired at once.

The budget still counts everything that happened during a window; status says how much of it
was spent there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from slokeeper.slo.objective import MaintenanceWindow, Objective

CREATED_BY = "slokeeper"
# Every kind of alert slokeeper writes for an SLO: the burn-rate page and ticket and the forecast.
ALERT_KINDS = "page|ticket|forecast"


class WindowState(StrEnum):
    SCHEDULED = "Scheduled"
    ACTIVE = "Active"
    ENDED = "Ended"


def window_state(window: MaintenanceWindow, now: datetime) -> WindowState:
    if now < window.start:
        return WindowState.SCHEDULED
    if now < window.end:
        return WindowState.ACTIVE
    return WindowState.ENDED


def marker(objective: Objective, window: MaintenanceWindow) -> str:
    """What identifies the silence of one window of one SLO."""
    return (
        f"[slokeeper maintenance {objective.namespace}/{objective.name} "
        f"{window.start.isoformat()}/{window.end.isoformat()}]"
    )


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False


@dataclass(frozen=True)
class SilenceRequest:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str = CREATED_BY


@dataclass(frozen=True)
class Silence:
    """A silence as Alertmanager lists it."""

    id: str
    comment: str
    created_by: str
    state: str  # active, pending or expired

    @property
    def live(self) -> bool:
        return self.state in ("active", "pending")


def silence_request(objective: Objective, window: MaintenanceWindow) -> SilenceRequest:
    return SilenceRequest(
        matchers=(
            Matcher("slo", objective.name),
            Matcher("slo_namespace", objective.namespace),
            Matcher("slokeeper_alert", ALERT_KINDS, is_regex=True),
        ),
        starts_at=window.start,
        ends_at=window.end,
        comment=f"{window.reason} {marker(objective, window)}".strip(),
    )


@dataclass(frozen=True)
class SilencePlan:
    create: tuple[tuple[Objective, MaintenanceWindow], ...]
    expire: tuple[str, ...]  # silence ids
    # Each window that has not ended, by its marker: its silence id, once there is one.
    silences: Mapping[str, str]


def plan_silences(
    objectives: Iterable[Objective], existing: Iterable[Silence], now: datetime
) -> SilencePlan:
    """What to create and expire so each known SLO's open windows, and only those, are silenced."""
    objectives = list(objectives)
    ours = [s for s in existing if s.created_by == CREATED_BY and s.live]
    known = {f"{o.namespace}/{o.name} " for o in objectives}
    wanted = {
        marker(objective, window): (objective, window)
        for objective in objectives
        for window in objective.maintenance
        if window_state(window, now) is not WindowState.ENDED
    }
    found: dict[str, str] = {}
    expire = []
    for silence in ours:
        mark = next((m for m in wanted if m in silence.comment), None)
        if mark is not None and mark not in found:
            found[mark] = silence.id
        elif any(f"[slokeeper maintenance {slo}" in silence.comment for slo in known):
            # A window removed or moved, or a duplicate: silences of SLOs this operator does not
            # know (another operator's, a deleted SLO's) are left alone and end by themselves.
            expire.append(silence.id)
    create = tuple(pair for mark, pair in wanted.items() if mark not in found)
    return SilencePlan(create, tuple(expire), found)


@dataclass(frozen=True)
class SharedWindow:
    """A MaintenanceWindow object: one window for the SLOs of its namespace it selects."""

    name: str
    window: MaintenanceWindow
    match_labels: tuple[tuple[str, str], ...] = ()

    def covers(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.match_labels)


def covering(
    labels: Mapping[str, str], shared: Iterable[SharedWindow]
) -> tuple[MaintenanceWindow, ...]:
    """The shared windows that cover an SLO with these labels, each reason naming its object."""
    return tuple(
        MaintenanceWindow(
            item.window.start,
            item.window.end,
            f"MaintenanceWindow {item.name}: {item.window.reason}",
        )
        for item in sorted(shared, key=lambda item: (item.window.start, item.name))
        if item.covers(labels)
    )


def budget_spent(window_error_ratio: float, allowed_error_ratio: float, share: float) -> float:
    """Share of the whole budget spent in a window: its burn rate times its share of the SLO
    window (a 1 h window at 10x in a 30 d SLO spends 10/720 of the budget)."""
    return window_error_ratio / allowed_error_ratio * share
