"""Every SLO on one screen: target, SLI, error budget left as a bar, burn rates, when the budget
runs out at the current burn, policy action."""

from __future__ import annotations

from typing import Any

BAR_WIDTH = 20


def budget_bar(remaining: float | None) -> str:
    """``[#######.............]  35.0%``; an overspent budget shows ``!`` and a negative figure."""
    if remaining is None:
        return f"[{'?' * BAR_WIDTH}]      -"
    filled = round(max(0.0, min(1.0, remaining)) * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled) if remaining >= 0 else "!" * BAR_WIDTH
    return f"[{bar}] {remaining * 100:6.1f}%"


def _burn_rates(status: dict[str, Any], shown: int = 3) -> str:
    rows = status.get("burnRates") or []
    return " ".join(f"{r['window']}={r['burnRate']:g}x" for r in rows[:shown]) or "-"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def runs_out(status: dict[str, Any]) -> str:
    """The earliest forecast exhaustion that falls before the window ends, e.g. ``in 2.5d (1h)``."""
    soon = [
        f
        for f in status.get("budgetExhaustion") or []
        if f.get("beforeWindowEnds") and f.get("secondsLeft") is not None
    ]
    if not soon:
        return "-"
    first = min(soon, key=lambda f: f["secondsLeft"])
    if first["secondsLeft"] <= 0:
        return "spent"
    return f"in {_span(first['secondsLeft'])} ({first['window']})"


def _ready(status: dict[str, Any]) -> str:
    ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)
    if ready is None:
        return "-"
    return "yes" if ready["status"] == "True" else ready.get("reason", "no")


def slo_rows(items: list[dict[str, Any]]) -> list[list[str]]:
    rows = [
        [
            "NAMESPACE", "NAME", "TARGET", "SLI", "ERROR BUDGET LEFT", "BURN", "RUNS OUT",
            "POLICY", "READY",
        ]
    ]  # fmt: skip
    for item in sorted(items, key=lambda i: (i["metadata"]["namespace"], i["metadata"]["name"])):
        status = item.get("status") or {}
        sli = status.get("sliRatio")
        rows.append(
            [
                item["metadata"]["namespace"],
                item["metadata"]["name"],
                f"{item['spec']['target']:g}%",
                f"{sli * 100:.3f}%" if sli is not None else "-",
                budget_bar(status.get("errorBudgetRemainingRatio")),
                _burn_rates(status),
                runs_out(status),
                status.get("policyAction") or "-",
                _ready(status),
            ]
        )
    return rows


def render(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
