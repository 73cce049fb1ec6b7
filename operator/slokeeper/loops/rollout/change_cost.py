"""What a change's canary cost each SLO of its analysis, worked out in the tick that ends it."""

from __future__ import annotations

from slokeeper.api.rollout_status import BudgetBurn
from slokeeper.loops.rollout.observed import Observed
from slokeeper.loops.rollout.ports import CanaryEvidence
from slokeeper.rollout.states import State
from slokeeper.slo.calendar import measurement_span


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def budget_burned(evidence: CanaryEvidence, seen: Observed, after: State) -> list[BudgetBurn]:
    """Per SLO of the analysis, when this tick ends the change; nothing while it runs or when
    no canary ever ran."""
    current = seen.status.current
    if current is None or current.revision.template_hash == after.candidate:
        return []
    candidate = current.revision.template_hash
    pod_hash = current.canary_pod_template_hash or (
        seen.canary.pod_template_hash if seen.canary.template_hash == candidate else None
    )
    if pod_hash is None:
        return []
    change_seconds = max(60.0, round((seen.now - current.started_at).total_seconds()))
    burned = []
    for check in seen.spec.analysis.slos:
        objective = seen.objective(check.name)
        if isinstance(objective, str):
            continue
        window = measurement_span(objective.window, seen.now).elapsed_seconds
        bad, budget = evidence.budget_burned(
            objective,
            target=seen.spec.target_ref.name,
            pod_template_hash=pod_hash,
            change_seconds=change_seconds,
            window_seconds=max(60.0, round(window)),
            at=seen.now,
        )
        ratio = bad / budget if bad is not None and budget else None
        burned.append(
            BudgetBurn(
                slo=check.name,
                canary_bad_events=_rounded(bad, 3),
                budget_events=_rounded(budget, 3),
                burned_ratio=_rounded(ratio, 6),
            )
        )
    return burned
