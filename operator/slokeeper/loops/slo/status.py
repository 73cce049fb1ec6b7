"""One SLO's status as an SRE reads it: conditions, figures, forecasts, maintenance windows and
the rules written; and what of a status counts as visible when deciding whether to write it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from slokeeper.api.slo_status import ServiceLevelObjectiveStatus
from slokeeper.loops.conditions import ConditionWriter
from slokeeper.loops.slo.maintenance import SilenceView, WindowErrorRatio, maintenance_status
from slokeeper.loops.slo.record import SLORecord
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.evaluation import Figures, FiringRow, Health
from slokeeper.slo.objective import AlertKind, Objective, PolicyAction
from slokeeper.slo.rules import rule_counts

RULES_PENDING = Health.RULES_PENDING.value
# Status fields that change only when the figures do; timestamps are left out of comparisons.
# They sit at the top (lastEvaluationTime) and in the conditions (lastTransitionTime) only.
_VOLATILE = ("lastEvaluationTime", "lastTransitionTime")


@dataclass(frozen=True)
class SLOStatusInputs:
    """What a status needs besides the SLO and its figures."""

    rules_kind: str  # PrometheusRule or ConfigMap
    silences: SilenceView
    error_ratio_between: WindowErrorRatio


def visible(status: dict[str, Any]) -> dict[str, Any]:
    """The part of a status an SRE reads, for deciding whether a write is needed. (Compared for
    every SLO every cycle: it copies only the two levels that hold timestamps.)"""
    shown = {key: value for key, value in status.items() if key not in _VOLATILE}
    if "conditions" in shown:
        shown["conditions"] = [
            {key: value for key, value in condition.items() if key not in _VOLATILE}
            for condition in shown["conditions"]
        ]
    return shown


# The numbers of a status, each already rounded to the precision it is shown at (`slokeeper
# status`, `kubectl get slo`). They move with every error that arrives, so a change of figures
# alone is written within the loop's write budget; everything else is a fact and written at once.
_FIGURES = ("sliRatio", "errorBudgetRemainingRatio", "burnRates", "budgetExhaustion")


class Change(Enum):
    """What differs between the status computed this cycle and the one last written."""

    NONE = "none"  # nothing at its shown precision: no write
    FIGURES = "figures"  # only shown figures (and condition messages quoting them)
    FACTS = "facts"  # a condition's status or reason, an alert, the policy action, maintenance…


def _facts(shown: dict[str, Any]) -> dict[str, Any]:
    """The facts of a visible status: all but the figures, and the conditions' messages."""
    facts = {key: value for key, value in shown.items() if key not in _FIGURES}
    # A condition's message quotes the figures ("SLI 99.912% … 87.3% of the error budget left").
    facts["conditions"] = [
        {key: value for key, value in condition.items() if key != "message"}
        for condition in shown.get("conditions", [])
    ]
    return facts


def status_change(new: dict[str, Any], shown: dict[str, Any]) -> Change:
    """Whether writing ``new`` over the ``shown`` status would change what an SRE reads, and how.

    A new SLO's first status while Prometheus has yet to evaluate its rules (RulesPending) is
    expected and no news, so it waits its turn with the figures: applied alone it is written in
    the same cycle; applied with 5,000 others, most go straight to their first figures a cycle
    later instead of costing 5,000 writes (and as many watch events) for a state of a minute."""
    new_shown, old_shown = visible(new), visible(shown)
    if new_shown == old_shown:
        return Change.NONE
    if not old_shown and (_ready(new_shown) or {}).get("reason") == RULES_PENDING:
        return Change.FIGURES
    return Change.FIGURES if _facts(new_shown) == _facts(old_shown) else Change.FACTS


def _ready(status: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions", []) if c.get("type") == "Ready"), None)


def figures_from_status(status: dict[str, Any]) -> Figures | None:
    """What the previous status showed, so a restarted operator does not repeat its Events."""
    ready = _ready(status)
    if ready is None:
        return None
    try:
        health = Health(ready.get("reason", ""))
    except ValueError:
        return None
    action = status.get("policyAction")
    firing = tuple(
        FiringRow(AlertKind(a["kind"]), a["longWindow"], a["shortWindow"], a["burnRateThreshold"])
        for a in status.get("firingAlerts", [])
    )
    return Figures(
        health,
        ready.get("message", ""),
        policy_action=PolicyAction(action) if action else None,
        firing=firing,
        error_budget_remaining_ratio=status.get("errorBudgetRemainingRatio"),
    )


def _conditions(
    record: SLORecord,
    objective: Objective,
    figures: Figures,
    maintenance: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    condition = ConditionWriter(record.status, record.generation, now).condition
    exhausted = figures.budget_exhausted
    conditions = [
        condition("Ready", figures.health is Health.OK, figures.health.value, figures.message),
        condition(
            "BudgetExhausted",
            exhausted,
            "BudgetExhausted" if exhausted else "BudgetLeft",
            "The error budget is spent." if exhausted else "Error budget left.",
        ),
    ]
    if objective.maintenance:
        active = [entry for entry in maintenance if entry["state"] == "Active"]
        conditions.append(
            condition(
                "InMaintenance",
                bool(active),
                "MaintenanceActive" if active else "NoMaintenance",
                f"Until {active[0]['end'].isoformat()}: {active[0]['reason']}"
                if active
                else "No maintenance window is open.",
            )
        )
    return conditions


def _figures(figures: Figures) -> dict[str, Any]:
    """The figures' part of the status."""
    return {
        "sliRatio": figures.sli_ratio,
        "errorBudgetRemainingRatio": figures.error_budget_remaining_ratio,
        "burnRates": [{"window": w, "burnRate": r} for w, r in figures.burn_rates],
        "budgetExhaustion": [
            {
                "window": forecast.window,
                "burnRate": forecast.burn_rate,
                "secondsLeft": forecast.seconds_left,
                "beforeWindowEnds": forecast.before_window_ends,
            }
            for forecast in figures.exhaustion
        ],
        "firingAlerts": [
            {
                "kind": row.kind.value,
                "longWindow": row.long_window,
                "shortWindow": row.short_window,
                "burnRateThreshold": row.burn_rate_threshold,
            }
            for row in figures.firing
        ],
        "policyAction": figures.policy_action.value if figures.policy_action else None,
    }


def slo_status(
    record: SLORecord,
    objective: Objective,
    figures: Figures,
    inputs: SLOStatusInputs,
    now: datetime,
) -> dict[str, Any]:
    """The status to show for ``figures``, as the API server stores it."""
    span = measurement_span(objective.window, now)
    maintenance = maintenance_status(
        objective,
        record.status.get("maintenance", []),
        silences=inputs.silences,
        error_ratio_between=inputs.error_ratio_between,
        span=span,
        now=now,
    )
    recording_rules, alerting_rules = rule_counts(objective)
    status = ServiceLevelObjectiveStatus.model_validate(
        {
            "observedGeneration": record.generation,
            "conditions": _conditions(record, objective, figures, maintenance, now),
            **_figures(figures),
            "maintenance": maintenance,
            "periodStart": span.start if span.elapsed_share < 1 else None,
            "periodEnd": span.end if span.elapsed_share < 1 else None,
            "lastEvaluationTime": now,
            "rules": {
                "kind": inputs.rules_kind,
                "name": f"{objective.name}-slo",
                "recordingRules": recording_rules,
                "alertingRules": alerting_rules,
            },
        }
    )
    dumped: dict[str, Any] = status.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped
