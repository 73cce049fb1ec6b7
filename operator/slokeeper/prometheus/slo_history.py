"""An SLO's figures in the past, for ``slokeeper report``: the error budget left at points over
its window, and the burn rate of each alert window over the same stretch.

Budget points go through exactly the code the operator runs each cycle (the figures reader at a
given time, then the core's ``evaluate``), so a point at a status' ``lastEvaluationTime`` is that
status, to the last rounded digit. Burn rates come from the recorded error ratios.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slokeeper.prometheus.client import PrometheusClient
from slokeeper.prometheus.slo_figures import SLOFiguresReader, key_of
from slokeeper.slo.budget import burn_rate
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.durations import format_duration
from slokeeper.slo.evaluation import Figures, Health, evaluate
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import (
    BUDGET_WINDOW_SECONDS,
    ERROR_RATIO,
    REQUESTS_PER_SECOND,
    series_selector,
)
from slokeeper.slo.windows import burn_rate_table

# The finest step a range query takes here: the rules are evaluated no more often than this.
MIN_STEP_SECONDS = 15.0


@dataclass(frozen=True)
class BurnRateLine:
    window: str
    points: list[tuple[datetime, float]]


@dataclass(frozen=True)
class Threshold:
    severity: str
    window: str
    burn_rate: float


class SLOHistory:
    def __init__(self, client: PrometheusClient) -> None:
        self.client = client
        # Reads at past times: the rules Prometheus lists now may not have run then.
        self._reader = SLOFiguresReader(client, rule_listing=False)

    def figures_at(self, objective: Objective, at: datetime) -> Figures:
        observation = self._reader.read([objective], at)[key_of(objective)]
        return evaluate(objective, observation, measurement_span(objective.window, at))

    def first_data(self, objective: Objective, end: datetime) -> datetime | None:
        """When this SLO's recorded request rate first has data within its window (to a step of
        a thousandth of the window; history newer than one step is looked at finely)."""
        start = measurement_span(objective.window, end).start
        step = max(MIN_STEP_SECONDS, (end - start).total_seconds() / 1000)
        query = f"{REQUESTS_PER_SECOND}{series_selector(objective, BUDGET_WINDOW_SECONDS)}"
        for since, resolution in ((start, step), (end - timedelta(seconds=2 * step), 0.0)):
            series = self.client.query_range(query, since, end, max(MIN_STEP_SECONDS, resolution))
            firsts = [s.points[0][0] for s in series if s.points]
            if firsts:
                return min(firsts)
        return None

    def budget_left(
        self, objective: Objective, start: datetime, end: datetime, points: int
    ) -> list[tuple[datetime, float]]:
        """Error budget left (ratio) at ``points`` evenly spaced times, ending at ``end``."""
        spacing = (end - start) / max(1, points - 1)
        budget = []
        for index in range(points):
            at = start + spacing * index if index < points - 1 else end
            figures = self.figures_at(objective, at)
            if figures.health is Health.OK and figures.error_budget_remaining_ratio is not None:
                budget.append((at, figures.error_budget_remaining_ratio))
        return budget

    def burn_rates(
        self, objective: Objective, start: datetime, end: datetime, points: int
    ) -> list[BurnRateLine]:
        """Burn rate over each alert's long window, as recorded, from ``start`` to ``end``."""
        step = max(MIN_STEP_SECONDS, (end - start).total_seconds() / max(1, points))
        allowed = objective.allowed_error_ratio
        lines = []
        for window in sorted({row.long_seconds for row in burn_rate_table(objective)}):
            series = self.client.query_range(
                f"{ERROR_RATIO}{series_selector(objective, window)}", start, end, step
            )
            points_of = [(at, burn_rate(ratio, allowed)) for s in series for at, ratio in s.points]
            lines.append(BurnRateLine(format_duration(window), sorted(points_of)))
        return lines

    @staticmethod
    def thresholds(objective: Objective) -> list[Threshold]:
        return [
            Threshold(row.kind.value, format_duration(row.long_seconds), row.burn_rate)
            for row in burn_rate_table(objective)
        ]


def report_range(first_data: datetime | None, window_start: datetime, end: datetime) -> datetime:
    """Where the report's time axis starts: the window's start, or the first data if later
    (a new SLO has minutes of history, not 28 days), and never less than a minute before end."""
    start = max(window_start, first_data) if first_data else window_start
    return min(start, end - timedelta(minutes=1))
