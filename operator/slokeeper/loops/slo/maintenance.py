"""Maintenance windows in the SLO loop: silences kept in step with every SLO's windows once a
cycle, each window's entry in status, and the Events that say a window started or ended.

The core (slo/maintenance.py) decides which silences to make and expire; this module only lists,
creates and expires them through the Alertmanager port, and turns the result into status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from slokeeper.loops.slo.record import SLORecord
from slokeeper.slo.calendar import Span
from slokeeper.slo.evaluation import Event, significant
from slokeeper.slo.maintenance import (
    SharedWindow,
    Silence,
    SilenceRequest,
    WindowState,
    budget_spent,
    covering,
    marker,
    plan_silences,
    silence_request,
    window_state,
)
from slokeeper.slo.objective import MaintenanceWindow, Objective

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "no Alertmanager is configured (--alertmanager-url), so the alerts are not silenced"
)


class SilencesPort(Protocol):
    def list(self) -> list[Silence]: ...

    def create(self, request: SilenceRequest) -> str: ...

    def expire(self, silence_id: str) -> None: ...


class WindowErrorRatio(Protocol):
    def __call__(self, objective: Objective, start: datetime, end: datetime) -> float | None: ...


@dataclass
class SilenceView:
    """Each open window's silence id by marker, and why a window has none (if it has none)."""

    ids: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def sync_silences(
    port: SilencesPort | None,
    objectives: Sequence[Objective],
    had_windows: bool,
    now: datetime,
) -> SilenceView:
    """Make and expire silences so the open windows of ``objectives`` are silenced.

    ``had_windows``: some SLO showed a window in status before, so a silence may need expiring
    even when no SLO has a window now.
    """
    if not had_windows and not any(o.maintenance for o in objectives):
        return SilenceView()
    if port is None:
        return SilenceView(problem=NOT_CONFIGURED)
    try:
        existing = port.list()
    except Exception as error:  # Alertmanager down must not stop the SLO loop
        log.warning("could not list Alertmanager silences: %s", error)
        return SilenceView(problem=str(error))
    plan = plan_silences(objectives, existing, now)
    view = SilenceView(dict(plan.silences))
    for silence_id in plan.expire:
        try:
            port.expire(silence_id)
        except Exception as error:
            log.warning("could not expire silence %s: %s", silence_id, error)
    for objective, window in plan.create:
        try:
            view.ids[marker(objective, window)] = port.create(silence_request(objective, window))
        except Exception as error:
            log.warning(
                "could not silence %s/%s for %s: %s",
                objective.namespace,
                objective.name,
                window.reason,
                error,
            )
            view.problem = str(error)
    return view


def with_shared_windows(
    records: Sequence[SLORecord], shared: Mapping[str, Sequence[SharedWindow]]
) -> list[SLORecord]:
    """Each SLO with the MaintenanceWindow objects of its namespace that select it added to its
    own windows."""
    merged = []
    for record in records:
        windows = covering(dict(record.labels), shared.get(record.namespace, ()))
        if windows and record.objective is not None:
            objective = replace(
                record.objective, maintenance=record.objective.maintenance + windows
            )
            merged.append(replace(record, objective=objective))
        else:
            merged.append(record)
    return merged


def _key(entry: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(entry["start"]), datetime.fromisoformat(entry["end"])


def maintenance_status(
    objective: Objective,
    previous: Sequence[dict[str, Any]],
    *,
    silences: SilenceView,
    error_ratio_between: WindowErrorRatio,
    span: Span,
    now: datetime,
) -> list[dict[str, Any]]:
    """One status entry per window of the SLO, in spec order."""
    before = {_key(entry): entry for entry in previous}
    entries = []
    for window in objective.maintenance:
        state = window_state(window, now)
        old = before.get((window.start, window.end), {})
        entry: dict[str, Any] = {
            "start": window.start,
            "end": window.end,
            "reason": window.reason,
            "state": state.value,
        }
        if state is WindowState.ENDED:
            entry["silenceId"] = old.get("silenceId")
        else:
            entry["silenceId"] = silences.ids.get(marker(objective, window))
            if entry["silenceId"] is None:
                entry["silenceProblem"] = silences.problem or "not silenced yet"
        entry["budgetSpentRatio"] = _budget_spent(
            objective,
            window,
            state=state,
            old=old,
            error_ratio_between=error_ratio_between,
            span=span,
            now=now,
        )
        entries.append({k: v for k, v in entry.items() if v is not None})
    return entries


def _budget_spent(
    objective: Objective,
    window: MaintenanceWindow,
    *,
    state: WindowState,
    old: dict[str, Any],
    error_ratio_between: WindowErrorRatio,
    span: Span,
    now: datetime,
) -> float | None:
    if state is WindowState.SCHEDULED:
        return None
    spent: float | None = old.get("budgetSpentRatio")
    if (
        state is WindowState.ENDED
        and old.get("state") == WindowState.ENDED.value
        and spent is not None
    ):
        return spent  # measured once when the window ended (again if Prometheus did not answer)
    until = min(now, window.end)
    ratio = error_ratio_between(objective, window.start, until)
    if ratio is None:
        return None
    share = (until - window.start).total_seconds() / span.length_seconds
    # Two significant figures, like the forecasts: an open window's cost grows every cycle, and
    # status is rewritten only when what an SRE reads changes.
    return significant(budget_spent(ratio, objective.allowed_error_ratio, share), 2)


def maintenance_events(
    previous: Sequence[dict[str, Any]], current: Sequence[dict[str, Any]]
) -> list[Event]:
    """What changed for an SRE: a window started or ended, or a silence could not be made
    (both lists as written to status)."""
    before = {_key(entry): entry for entry in previous}
    events = []
    for entry in current:
        old = before.get(_key(entry), {})
        state, reason = entry["state"], entry["reason"]
        if state == old.get("state"):
            if entry.get("silenceProblem") and not old.get("silenceProblem"):
                events.append(
                    Event(
                        "MaintenanceNotSilenced",
                        f"Maintenance ({reason}): {entry['silenceProblem']}",
                        warning=True,
                    )
                )
            continue
        if state == WindowState.ACTIVE.value:
            silenced = (
                f"alerts silenced until {entry['end']} (silence {entry['silenceId']})"
                if entry.get("silenceId")
                else f"alerts NOT silenced: {entry.get('silenceProblem')}"
            )
            events.append(
                Event(
                    "MaintenanceStarted",
                    f"Maintenance started ({reason}): {silenced}; errors still count.",
                    warning="silenceId" not in entry,
                )
            )
        elif state == WindowState.ENDED.value and old:
            spent = entry.get("budgetSpentRatio")
            cost = (
                f"; it spent {100 * spent:.2f} % of the error budget" if spent is not None else ""
            )
            events.append(Event("MaintenanceEnded", f"Maintenance ended ({reason}){cost}."))
    return events
