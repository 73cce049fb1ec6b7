"""One analysis of a running canary: the evidence read from Prometheus, judged by the core.

Prometheus problems become the outcomes that name them (QueryInvalid for PromQL it rejected or an
SLO that cannot be read, PrometheusUnreachable for no answer), never an exception that would
stop the rollout loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.prometheus.canary_evidence import (
    budget_burned,
    canary_pods,
    check_evidence,
    slo_evidence,
)
from slokeeper.prometheus.client import PrometheusUnreachableError, QueryRejectedError
from slokeeper.prometheus.slo_figures import InstantQueries
from slokeeper.rollout.analysis import Outcome, Verdict, analyse
from slokeeper.slo.durations import duration_seconds
from slokeeper.slo.objective import FreshnessIndicator, Objective


def _why_unusable(found: Objective | str) -> str | None:
    if isinstance(found, str):
        return found
    if isinstance(found.indicator, FreshnessIndicator):
        return (
            "a freshness SLO has no events per pod to compare a canary with; name it in "
            "gates.sloBudgetPolicies instead, where its budget holds changes"
        )
    return None


def analyse_canary(
    prometheus: InstantQueries,
    spec: ChangeRolloutSpec,
    namespace: str,
    objectives: Mapping[str, Objective | str],
    pod_template_hash: str | None = None,
    *,
    stable_pod_template_hash: str | None = None,
) -> Verdict:
    """``objectives`` maps each SLO the analysis names to its Objective, or why there is none;
    ``pod_template_hash`` is the running canary's, to leave out pods of earlier canaries, and
    ``stable_pod_template_hash`` the stable ReplicaSet's, so that no pod of another template in
    the target counts as stable."""
    target = spec.target_ref.name
    analysis = spec.analysis
    regex = analysis.canary_pod_regex or canary_pods(target, pod_template_hash)
    unusable = {
        check.name: why
        for check in analysis.slos
        if (why := _why_unusable(objectives.get(check.name, "not found"))) is not None
    }
    if unusable:
        problems = "; ".join(f"ServiceLevelObjective {n}: {why}" for n, why in unusable.items())
        return Verdict(Outcome.QUERY_INVALID, problems)
    try:
        slos = tuple(
            slo_evidence(
                prometheus,
                objective,
                target=target,
                canary_regex=regex,
                stable_pod_template_hash=stable_pod_template_hash,
                window_seconds=duration_seconds(analysis.window),
                max_burn_rate=check.max_burn_rate,
            )
            for check in analysis.slos
            if isinstance(objective := objectives[check.name], Objective)
        )
        checks = tuple(
            check_evidence(
                prometheus,
                check.name,
                check.query,
                namespace=namespace,
                canary_regex=regex,
                minimum=check.min,
                maximum=check.max,
            )
            for check in analysis.checks
        )
    except QueryRejectedError as error:
        return analyse((), (), 0, problem=Outcome.QUERY_INVALID, problem_message=str(error))
    except PrometheusUnreachableError as error:
        return analyse(
            (), (), 0, problem=Outcome.PROMETHEUS_UNREACHABLE, problem_message=str(error)
        )
    return analyse(slos, checks, analysis.min_request_count)


class PrometheusCanaryEvidence:
    """The rollout loop's evidence reader: analyses and what a change cost, from Prometheus, with
    its errors turned into outcomes (an analysis) or unknown figures (a cost)."""

    def __init__(self, prometheus: InstantQueries) -> None:
        self._prometheus = prometheus

    def analyse(
        self,
        spec: ChangeRolloutSpec,
        namespace: str,
        objectives: Mapping[str, Objective | str],
        pod_template_hash: str | None,
        stable_pod_template_hash: str | None = None,
    ) -> Verdict:
        return analyse_canary(
            self._prometheus,
            spec,
            namespace,
            objectives,
            pod_template_hash,
            stable_pod_template_hash=stable_pod_template_hash,
        )

    def budget_burned(
        self,
        objective: Objective,
        *,
        target: str,
        pod_template_hash: str,
        change_seconds: float,
        window_seconds: float,
        at: datetime,
    ) -> tuple[float | None, float | None]:
        """(the canary's bad events over the change, the SLO's budget in events), each None when
        Prometheus could not say."""
        try:
            return budget_burned(
                self._prometheus,
                objective,
                canary_regex=canary_pods(target, pod_template_hash),
                change_seconds=change_seconds,
                window_seconds=window_seconds,
                at=at,
            )
        except (PrometheusUnreachableError, QueryRejectedError):
            return None, None
