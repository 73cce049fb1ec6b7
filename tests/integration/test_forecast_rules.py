"""User story: with `alerting.forecast` on, a ticket fires when the error budget left would be
spent before the calendar period ends at the current burn rate — and the budget left that the rule
compares is the current period's alone, the same figure the operator shows in status.

`promtool test rules` replays six weeks from 1970-01-01 (a Thursday) on synthetic traffic whose
error ratio steps from 5 % to a lower, steady one when the period under test starts. Had the rules
counted any of the previous period's errors, the budget left would be far off. Expected figures
come from the operator's own calendar and budget code, not from the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from promtool import replay, write_rule_file
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.slo.budget import error_budget_remaining
from slokeeper.slo.calendar import calendar_period
from slokeeper.slo.objective import (
    Alerting,
    CalendarPeriod,
    CalendarWindow,
    ForecastAlert,
    Objective,
    RatioIndicator,
)
from slokeeper.slo.rules import (
    FORECAST_ALERT,
    FORECAST_ALERT_KIND,
    PERIOD_BUDGET_REMAINING,
    PERIOD_TIME_LEFT,
    rule_group,
    slo_labels,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP_MINUTES = 30
REQUESTS_PER_STEP = 6000
EARLIER_ERROR_RATIO = 0.05
TARGET = 99.0  # 1 % of events may fail
# Evaluated on the hour, the rules see every whole hour of the period: only rounding remains.
TOLERANCE = 0.001


@dataclass(frozen=True)
class Case:
    id: str
    period: CalendarPeriod
    time_zone: str
    evaluated_at: datetime
    error_ratio: float  # steady from the start of the period under test

    @property
    def objective(self) -> Objective:
        return Objective(
            namespace="shop",
            name=self.id,
            service="checkout",
            target_percent=TARGET,
            window=CalendarWindow(self.period, self.time_zone),
            indicator=RatioIndicator(
                errors=f'sum(rate(requests_total{{case="{self.id}",code="500"}}[{{{{.window}}}}]))',
                total=f'sum(rate(requests_total{{case="{self.id}"}}[{{{{.window}}}}]))',
            ),
            alerting=Alerting(forecast=ForecastAlert(enabled=True, for_seconds=0)),
        )

    @property
    def span(self) -> Any:
        return calendar_period(self.evaluated_at, self.period, self.time_zone)

    @property
    def burn_rate(self) -> float:
        return self.error_ratio / self.objective.allowed_error_ratio

    @property
    def expected_remaining(self) -> float:
        allowed = self.objective.allowed_error_ratio
        return error_budget_remaining(self.error_ratio, allowed, self.span.elapsed_share)

    @property
    def expected_time_left(self) -> float:
        return 1 - float(self.span.elapsed_share)

    @property
    def forecast_fires(self) -> bool:
        return self.burn_rate * self.expected_time_left >= self.expected_remaining

    def input_series(self) -> list[dict[str, str]]:
        change_step = int((self.span.start - EPOCH).total_seconds() // (STEP_MINUTES * 60))
        end_step = int((self.evaluated_at - EPOCH).total_seconds() // (STEP_MINUTES * 60)) + 1
        after = end_step - change_step
        bad_before = REQUESTS_PER_STEP * EARLIER_ERROR_RATIO
        bad_after = REQUESTS_PER_STEP * self.error_ratio
        return [
            {
                "series": f'requests_total{{case="{self.id}",code="200"}}',
                "values": f"0+{REQUESTS_PER_STEP - bad_before:g}x{change_step} "
                f"{(REQUESTS_PER_STEP - bad_before) * change_step:g}"
                f"+{REQUESTS_PER_STEP - bad_after:g}x{after}",
            },
            {
                "series": f'requests_total{{case="{self.id}",code="500"}}',
                "values": f"0+{bad_before:g}x{change_step} "
                f"{bad_before * change_step:g}+{bad_after:g}x{after}",
            },
        ]


def _at(days: float) -> datetime:
    return EPOCH + timedelta(days=days)


CASES = [
    # February 1970: the period under test follows a 31-day January at 5 %.
    Case("month-burning-fast", CalendarPeriod.MONTH, "UTC", _at(38.5), 0.02),
    Case("month-burning-slowly", CalendarPeriod.MONTH, "UTC", _at(38.5), 0.005),
    # Berlin's months start at 23:00 UTC the evening before (CET, UTC+1, in winter).
    Case("month-in-berlin", CalendarPeriod.MONTH, "Europe/Berlin", _at(38.5), 0.02),
    # The ISO week of Monday 1970-01-05, after four days at 5 %.
    Case("week-burning-fast", CalendarPeriod.WEEK, "UTC", _at(7.5), 0.03),
    Case("week-burning-slowly", CalendarPeriod.WEEK, "UTC", _at(7.5), 0.004),
]


def _minute(moment: datetime) -> str:
    return f"{int((moment - EPOCH).total_seconds() // 60)}m"


def _close_to(metric: str, case: Case, expected: float) -> dict[str, Any]:
    selector = f'{{slo="{case.id}",slo_namespace="shop"}}'
    return {
        "expr": f"count(abs({metric}{selector} - {expected!r}) < {TOLERANCE})",
        "eval_time": _minute(case.evaluated_at),
        "exp_samples": [{"labels": "{}", "value": 1}],
    }


def _run(toolchain: Toolchain, tmp_path: Path, case: Case, checks: dict[str, Any]) -> Any:
    return replay(
        toolchain.promtool,
        write_rule_file(tmp_path / "rules.yaml", rule_group(case.objective)),
        input_series=case.input_series(),
        checks=checks,
        interval=f"{STEP_MINUTES}m",
        evaluation_interval="1h",
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_forecast_alert_reads_the_current_period_only(
    case: Case, toolchain: Toolchain, tmp_path: Path
) -> None:
    expected_alerts = (
        [
            {
                "exp_labels": {
                    **slo_labels(case.objective),
                    "namespace": case.objective.namespace,
                    "severity": "warning",
                    "slokeeper_alert": FORECAST_ALERT_KIND,
                }
            }
        ]
        if case.forecast_fires
        else []
    )
    checks = {
        "promql_expr_test": [
            _close_to(PERIOD_BUDGET_REMAINING, case, case.expected_remaining),
            _close_to(PERIOD_TIME_LEFT, case, case.expected_time_left),
        ],
        "alert_rule_test": [
            {
                "eval_time": _minute(case.evaluated_at),
                "alertname": FORECAST_ALERT,
                "exp_alerts": expected_alerts,
            }
        ],
    }
    tested = _run(toolchain, tmp_path, case, checks)
    if tested.returncode != 0:
        # Ask for nothing, so promtool prints what the rules actually recorded.
        actual = _run(
            toolchain,
            tmp_path,
            case,
            {
                "promql_expr_test": [
                    {
                        "expr": f'{{__name__=~"{PERIOD_BUDGET_REMAINING}|{PERIOD_TIME_LEFT}"}}',
                        "eval_time": _minute(case.evaluated_at),
                        "exp_samples": [],
                    }
                ]
            },
        )
        outcome = "fires" if case.forecast_fires else "silent"
        pytest.fail(
            f"expected budget left {case.expected_remaining:.4f}, time left "
            f"{case.expected_time_left:.4f}, forecast {outcome}"
            f" (burn rate {case.burn_rate:g})\n{tested.stdout}{tested.stderr}\n"
            f"recorded:\n{actual.stdout}{actual.stderr}"
        )


def test_cases_cover_both_outcomes() -> None:
    assert {case.forecast_fires for case in CASES} == {True, False}
    assert all(0 < case.span.elapsed_share < 1 for case in CASES)
