"""Synthetic traffic for `promtool test rules`: healthy history, then a steady error ratio.

With healthy history, a constant error ratio that burns the budget ``b`` times too fast makes a
burn-rate row with threshold ``k`` and long window ``L`` fire after ``L * k / b`` (the SRE
Workbook's formula; its short window, ``S * k / b``, is always sooner).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slokeeper.slo.objective import BurnRateWindow

REQUESTS_PER_MINUTE = 600
# The formula assumes every window already holds healthy traffic: three days, the longest one.
HISTORY_MINUTES = 3 * 1440


@dataclass(frozen=True)
class Scenario:
    id: str
    error_ratio: float
    healthy_minutes: int
    failing_minutes: int

    def burn_rate(self, allowed_error_ratio: float) -> float:
        return self.error_ratio / allowed_error_ratio

    def input_series(self, counter: str, good: str, bad: str) -> list[dict[str, str]]:
        """``counter{good}`` and ``counter{bad}`` (label matchers without braces) per minute."""
        errors_per_minute = round(REQUESTS_PER_MINUTE * self.error_ratio, 6)
        good_per_minute = REQUESTS_PER_MINUTE - errors_per_minute
        healthy = f"0+{REQUESTS_PER_MINUTE}x{self.healthy_minutes}" if self.healthy_minutes else ""
        good_start = REQUESTS_PER_MINUTE * self.healthy_minutes
        failing = self.failing_minutes
        return [
            {
                "series": f"{counter}{{{good}}}",
                "values": f"{healthy} {good_start}+{good_per_minute}x{failing}".strip(),
            },
            {
                "series": f"{counter}{{{bad}}}",
                "values": (f"0x{self.healthy_minutes} " if self.healthy_minutes else "")
                + f"0+{errors_per_minute}x{failing}",
            },
        ]

    def first_firing_minute(
        self, rows: Iterable[BurnRateWindow], allowed_error_ratio: float
    ) -> float | None:
        """The workbook formula: the earliest row whose threshold this burn rate reaches."""
        burn = self.burn_rate(allowed_error_ratio)
        times = [
            row.long_seconds / 60 * row.burn_rate / burn for row in rows if burn > row.burn_rate
        ]
        return min(times) if times else None
