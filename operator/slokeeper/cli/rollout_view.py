"""Views of a ChangeRollout for a terminal: a line per change (the demo, and `rollout status
--watch` into a log or pipe) and the whole panel (`rollout status`, redrawn in place by `--watch`
on a terminal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slokeeper.slo.durations import duration_seconds


def _figures(analysis: dict[str, Any]) -> str:
    shown = []
    for measurement in analysis.get("measurements", []):
        name = measurement["name"].removeprefix("slo/").replace(" canary ", " ")
        mark = "ok" if measurement.get("passed") else "FAIL"
        value = measurement.get("value")
        shown.append(f"{name} {value:g} (limit {measurement.get('threshold', 0):g}) {mark}")
    if not shown:
        message: str = analysis.get("message", "")
        return message
    requests = analysis.get("canaryRequests")
    counted = f"{requests:.0f} canary requests; " if requests is not None else ""
    return counted + "; ".join(shown)


def describe(status: dict[str, Any]) -> str:
    """One line for what an SRE needs to know right now."""
    phase = status.get("phase", "Idle")
    current = status.get("current") or {}
    line = f"{phase:<16}"
    if phase == "Progressing" and current:
        steps = current.get("steps") or [{}]
        step = steps[-1]
        line += (
            f" step {current.get('step', 0) + 1}, canary {step.get('canaryWeightPercent', 0):g}%"
            f" of pods (planned {step.get('weight', 0)}%)"
        )
        analyses = current.get("analyses") or []
        if analyses:
            last = analyses[-1]
            line += f" | {last['outcome']}: {_figures(last)}"
        if status.get("reason") in ("CanaryNotReady", "Paused"):
            line += f" | {status['reason']}"
        if current.get("heldUntil"):
            line += f" | held until {_clock(current['heldUntil'])} UTC"
        elif current.get("inconclusiveSince") or status.get("reason") == "RollbackHeld":
            line += " | waits for a person"
        return line
    reason, message = status.get("reason", ""), status.get("message", "")
    return f"{line} {reason}: {message}" if reason else line


class RolloutView:
    """Prints a line whenever what ``describe`` says changes."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self._last = ""

    def show(self, status: dict[str, Any]) -> None:
        line = describe(status)
        if line != self._last:
            print(f"  {line}", file=self._out, flush=True)
            self._last = line


GATE_PHASES = ("Blocked", "AwaitingApproval", "WaitingForWindow", "Paused")


def _short(revision: dict[str, Any] | None) -> str:
    if not revision:
        return "-"
    images = ", ".join(revision.get("images", []))
    return (
        f"{revision.get('templateHash', '')[:8]} ({images})" if images else revision["templateHash"]
    )


def _clock(stamp: str | None) -> str:
    return stamp[11:19] if stamp else "-"


def _person(action: dict[str, Any]) -> str:
    reason = action.get("reason")
    return f"{action.get('by') or 'someone'}" + (f' "{reason}"' if reason else "")


def _left(until: datetime, now: datetime) -> str:
    seconds = max(0, round((until - now).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def waiting(body: dict[str, Any], now: datetime) -> str:
    """What a running step waits for, and for how long yet: held without a verdict (rolled back
    when the time is up), a person (no time limit), or its canary's pods (until the progress
    deadline). "" when it waits for nothing of the kind."""
    status: dict[str, Any] = body.get("status") or {}
    current: dict[str, Any] = status.get("current") or {}
    reason = status.get("reason", "")
    if status.get("phase") != "Progressing" or not current:
        return ""
    if current.get("heldUntil"):
        held = current["heldUntil"]
        return (
            f"held without a verdict ({reason}), {_left(_moment(held), now)} left: rolled back "
            f"at {_clock(held)} UTC unless a verdict comes first"
        )
    if current.get("inconclusiveSince") or reason == "RollbackHeld":
        return f"waits for a person ({reason}), no time limit: abort, promote, or fix the cause"
    unready = current.get("canaryUnreadySince")
    if not unready:
        return ""
    deadline = str((body.get("spec") or {}).get("progressDeadline", "10m"))
    until = _moment(unready) + timedelta(seconds=duration_seconds(deadline))
    return (
        f"canary pods not Ready since {_clock(unready)}, {_left(until, now)} left of the "
        f"{deadline} progress deadline: rolled back at {until:%H:%M:%S} UTC"
    )


def panel(body: dict[str, Any], now: datetime | None = None) -> list[str]:
    """The whole picture of a ChangeRollout, for ``rollout status``: stable and candidate, gates,
    every planned step with what happened in it, the latest analysis with its figures, and what
    the step waits for with the time left."""
    meta, spec = body.get("metadata", {}), body.get("spec", {})
    status: dict[str, Any] = body.get("status") or {}
    current: dict[str, Any] = status.get("current") or {}
    phase, reason = status.get("phase", "Idle"), status.get("reason", "")
    lines = [
        f"{meta.get('namespace')}/{meta.get('name')}: {phase}" + (f" ({reason})" if reason else ""),
        f"  target    {spec.get('targetRef', {}).get('name', '-')}, "
        f"stable {_short(status.get('stable'))}",
    ]
    if current:
        seen = _clock(current.get("startedAt"))
        lines.append(
            f"  change    {_short(current.get('revision'))}, seen {seen}, "
            f"risk {spec.get('risk', 'Medium')}"
        )
    gates = status.get("message", "") if phase in GATE_PHASES else "open"
    extras = [f"approved by {_person(a)}" for a in current.get("approvals", [])]
    if current.get("override"):
        extras.append(f"overridden by {_person(current['override'])}")
    if status.get("paused"):
        extras.append(f"paused by {_person(status['paused'])}")
    lines.append(f"  gates     {gates}" + (f" [{'; '.join(extras)}]" if extras else ""))
    if current or phase == "Progressing":
        lines.append(f"  {'step':<5} {'planned':>7}  {'canary':>6}  {'started':<9} pass/fail/none")
        reached = {s.get("step"): s for s in current.get("steps", [])}
        for index, planned in enumerate(spec.get("steps", [])):
            step = reached.get(index)
            mark = ">" if step and not step.get("finishedAt") and current else " "
            if step is None:
                lines.append(f"{mark} {index + 1:<5} {planned['weight']:>6}%  {'-':>6}  -")
                continue
            counts = (
                f"{step.get('passedAnalyses', 0)}/{step.get('failedAnalyses', 0)}/"
                f"{step.get('inconclusiveAnalyses', 0)}"
            )
            lines.append(
                f"{mark} {index + 1:<5} {planned['weight']:>6}%  "
                f"{step.get('canaryWeightPercent', 0):>5.0f}%  {_clock(step.get('startedAt')):<9} "
                f"{counts:<14} pause {planned.get('pause', '-')}"
            )
    analyses = current.get("analyses") or []
    if analyses:
        last = analyses[-1]
        lines.append(
            f"  analysis  {last['outcome']} at {_clock(last.get('time'))}: {_figures(last)}"
        )
    if status.get("message") and phase not in GATE_PHASES:
        lines.append(f"  message   {status['message']}")
    waits = waiting(body, now or datetime.now(UTC))
    if waits:
        lines.append(f"  waiting   {waits}")
    return lines


class LivePanel:
    """Redraws lines in place on a terminal (cursor up, clear below), only when they changed:
    ``panel`` for `rollout status --watch`, the tree for `rollout get --watch`."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self.drawn: list[str] = []

    def show(self, body: dict[str, Any]) -> None:
        self.show_lines(panel(body))

    def show_lines(self, lines: list[str]) -> None:
        if lines == self.drawn:
            return
        if self.drawn:
            self._out.write(f"\x1b[{len(self.drawn)}F\x1b[J")
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
        self.drawn = lines


def _duration(start: str | None, end: str | None) -> str:
    if not start or not end:
        return "-"
    seconds = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def history_table(status: dict[str, Any]) -> list[str]:
    """Every finished change, newest first (``rollout history``), then the counts of all."""
    header = ("REVISION", "IMAGES", "SEEN", "TOOK", "OUTCOME", "REASON", "STEPS", "APPROVED BY")
    rows = [header]
    for change in status.get("history", []):
        revision = change.get("revision", {})
        approvals = ", ".join(
            f"{a.get('by') or 'someone'}" + (f" ({a['role']})" if a.get("role") else "")
            for a in change.get("approvals", [])
        )
        rows.append(
            (
                revision.get("templateHash", "")[:8],
                ", ".join(revision.get("images", [])) or "-",
                change.get("startedAt", "")[:19].replace("T", " "),
                _duration(change.get("startedAt"), change.get("finishedAt")),
                change.get("outcome", "-"),
                change.get("reason", "-"),
                str(len(change.get("steps", []))),
                approvals or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    counts = status.get("changeCounts") or {}
    tally = ", ".join(
        f"{counts.get(key, 0)} {label}"
        for key, label in (
            ("promoted", "promoted"),
            ("rolledBack", "rolled back"),
            ("aborted", "aborted"),
            ("superseded", "superseded"),
        )
    )
    hand = counts.get("outOfBand", 0)
    put_back = f"; {hand} changes by hand put back" if hand else ""
    lines.append(f"All changes: {tally}{put_back}.")
    return lines
