"""One SLO's figures from what Prometheus answered: SLI, budget, burn rates, alerts, policy.

Pure: the loop hands in the error ratios it read (per window, and over the SLO's span) and gets
back the figures to show, rounded so that a quiet service shows the same figures cycle after cycle
(and its status is not rewritten), plus the Events an SRE should see when something changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from slokeeper.slo.budget import burn_rate, error_budget_remaining
from slokeeper.slo.calendar import Span
from slokeeper.slo.durations import format_duration
from slokeeper.slo.forecast import Exhaustion, exhaustion
from slokeeper.slo.objective import (
    AlertKind,
    BurnRateWindow,
    CalendarWindow,
    Objective,
    PolicyAction,
)
from slokeeper.slo.policy import policy_action
from slokeeper.slo.windows import burn_rate_table


class Health(StrEnum):
    """Why figures are (or are not) available; becomes the Ready condition's reason."""

    OK = "Evaluated"
    NO_DATA = "NoData"
    QUERY_INVALID = "QueryInvalid"
    THRESHOLD_NOT_A_BUCKET = "ThresholdNotABucket"
    PROMETHEUS_UNREACHABLE = "PrometheusUnreachable"
    EVALUATION_FAILED = "EvaluationFailed"  # this SLO's figures could not be computed
    RULES_INVALID = "RulesInvalid"  # Prometheus would refuse its rules: they were not written
    # Just written, not evaluated yet, and not read from its own queries yet: expected, no Event.
    RULES_PENDING = "RulesPending"


@dataclass(frozen=True)
class Observation:
    """What Prometheus answered for one SLO in one cycle (ratios are error ratios)."""

    window_error_ratios: dict[float, float | None] = field(default_factory=dict)
    span_error_ratio: float | None = None
    span_requests: float | None = None
    problem: Health = Health.OK
    problem_message: str = ""


@dataclass(frozen=True)
class FiringRow:
    kind: AlertKind
    long_window: str
    short_window: str
    burn_rate_threshold: float


@dataclass(frozen=True)
class Figures:
    """Everything the status shows, already rounded."""

    health: Health
    message: str
    sli_ratio: float | None = None
    error_budget_remaining_ratio: float | None = None
    burn_rates: tuple[tuple[str, float], ...] = ()
    firing: tuple[FiringRow, ...] = ()
    policy_action: PolicyAction | None = None
    # (severity, long window, burn rate) of each alert, so dashboards draw the lines that page.
    alert_thresholds: tuple[tuple[str, str, float], ...] = ()
    # When the budget runs out at the shortest and the longest alert window's burn rate.
    exhaustion: tuple[Exhaustion, ...] = ()

    @property
    def firing_kinds(self) -> frozenset[AlertKind]:
        return frozenset(row.kind for row in self.firing)

    @property
    def budget_exhausted(self) -> bool:
        return (
            self.error_budget_remaining_ratio is not None and self.error_budget_remaining_ratio <= 0
        )


@dataclass(frozen=True)
class Event:
    reason: str
    message: str
    warning: bool = False


def significant(value: float, digits: int = 2) -> float:
    """``value`` to ``digits`` significant figures: 14.43 → 14, 0.01234 → 0.012."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _firing(
    table: tuple[BurnRateWindow, ...], burn_rates: dict[float, float]
) -> tuple[FiringRow, ...]:
    rows = []
    for row in table:
        long, short = burn_rates.get(row.long_seconds), burn_rates.get(row.short_seconds)
        if (
            long is not None
            and short is not None
            and long > row.burn_rate
            and short > row.burn_rate
        ):
            rows.append(
                FiringRow(
                    row.kind,
                    format_duration(row.long_seconds),
                    format_duration(row.short_seconds),
                    row.burn_rate,
                )
            )
    return tuple(rows)


def evaluate(objective: Objective, observation: Observation, span: Span) -> Figures:
    """The figures of one SLO for this cycle."""
    if observation.problem is not Health.OK:
        return Figures(observation.problem, observation.problem_message)
    allowed = objective.allowed_error_ratio
    rates = {
        window: burn_rate(ratio, allowed)
        for window, ratio in observation.window_error_ratios.items()
        if ratio is not None and math.isfinite(ratio)
    }
    table = burn_rate_table(objective) if objective.alerting.enabled else ()
    firing = _firing(table, rates)
    thresholds = tuple(
        (row.kind.value, format_duration(row.long_seconds), row.burn_rate) for row in table
    )
    burn_rates = tuple(
        (format_duration(window), significant(rate, 3)) for window, rate in sorted(rates.items())
    )
    ratio = observation.span_error_ratio
    if ratio is None or not math.isfinite(ratio):
        return Figures(
            Health.NO_DATA,
            "Prometheus has no events for this SLO's window yet (no traffic, or its rules have "
            "not been evaluated yet).",
            burn_rates=burn_rates,
            firing=firing,
            alert_thresholds=thresholds,
        )
    remaining = round(error_budget_remaining(ratio, allowed, span.elapsed_share), 3)
    return Figures(
        Health.OK,
        f"SLI {100 * (1 - ratio):.3f}% against a {objective.target_percent:g}% target; "
        f"{100 * remaining:.1f}% of the error budget left.",
        sli_ratio=round(1 - ratio, 5),
        error_budget_remaining_ratio=remaining,
        burn_rates=burn_rates,
        firing=firing,
        policy_action=policy_action(objective.budget_policy, remaining),
        alert_thresholds=thresholds,
        exhaustion=_forecasts(objective, rates, remaining, span),
    )


def _forecasts(
    objective: Objective, rates: dict[float, float], remaining: float, span: Span
) -> tuple[Exhaustion, ...]:
    """Exhaustion at the burn rate of the shortest and of the longest alert window."""
    table = burn_rate_table(objective)
    windows = sorted({row.long_seconds for row in table} & rates.keys()) or sorted(rates)
    chosen = sorted({windows[0], windows[-1]}) if windows else []
    calendar = isinstance(objective.window, CalendarWindow)
    return tuple(
        exhaustion(
            window=format_duration(window),
            burn_rate=significant(rates[window], 3),
            remaining=remaining,
            budget_seconds=span.length_seconds,
            now=span.now,
            period_end=span.end if calendar else None,
        )
        for window in chosen
    )


_POLICY_REASONS = {
    PolicyAction.NONE: "BudgetPolicyNone",
    PolicyAction.REQUIRE_APPROVAL: "BudgetPolicyRequireApproval",
    PolicyAction.FREEZE: "BudgetPolicyFreeze",
}


_NO_NEWS = (Health.OK, Health.RULES_PENDING)


def events_between(previous: Figures | None, current: Figures) -> list[Event]:
    """The Events that tell an SRE what changed since the previous cycle's figures."""
    events: list[Event] = []
    before_health = previous.health if previous else None
    if current.health is not before_health and current.health not in _NO_NEWS:
        events.append(Event(current.health.value, current.message, warning=True))
    # A first "none" is no news; every other action, and every change of action, is.
    before_action = previous.policy_action if previous else None
    if (
        current.policy_action is not None
        and current.policy_action != before_action
        and (before_action is not None or current.policy_action is not PolicyAction.NONE)
    ):
        figures = (
            f"{100 * (current.error_budget_remaining_ratio or 0):.1f}% of the error budget left"
        )
        events.append(
            Event(
                _POLICY_REASONS[current.policy_action],
                f"Budget policy action is now {current.policy_action.value}: {figures}.",
                warning=current.policy_action is not PolicyAction.NONE,
            )
        )
    before_firing = previous.firing_kinds if previous else frozenset()
    for kind in (AlertKind.PAGE, AlertKind.TICKET):
        row = next((r for r in current.firing if r.kind is kind), None)
        if row is not None and kind not in before_firing:
            burn = dict(current.burn_rates).get(row.long_window)
            events.append(
                Event(
                    f"BurnRate{kind.value.capitalize()}Firing",
                    f"Burn rate {burn}x over {row.long_window} and above "
                    f"{row.burn_rate_threshold:g}x over {row.short_window}: the {kind.value} alert "
                    "condition holds.",
                    warning=True,
                )
            )
        elif row is None and kind in before_firing:
            events.append(
                Event(
                    f"BurnRate{kind.value.capitalize()}Resolved",
                    f"The {kind.value} burn-rate condition no longer holds.",
                )
            )
    return events
