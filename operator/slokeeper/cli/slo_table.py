"""Every SLO on one screen: target, SLI, error budget left as a bar, burn rates, policy action."""

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


def _ready(status: dict[str, Any]) -> str:
    ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)
    if ready is None:
        return "-"
    return "yes" if ready["status"] == "True" else ready.get("reason", "no")


def slo_rows(items: list[dict[str, Any]]) -> list[list[str]]:
    rows = [["NAMESPACE", "NAME", "TARGET", "SLI", "ERROR BUDGET LEFT", "BURN", "POLICY", "READY"]]
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
