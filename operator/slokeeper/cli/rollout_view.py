"""A line-per-change view of a ChangeRollout's progress, for a terminal: what the demo shows while
a canary goes through its steps (and what `slokeeper rollout status --watch` will build on)."""

from __future__ import annotations

from typing import Any


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
