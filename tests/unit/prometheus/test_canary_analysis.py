"""An analysis that names an SLO it cannot read per pod says so, without asking Prometheus."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml

from slokeeper.api.rollout import ChangeRollout
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.prometheus.canary_analysis import analyse_canary
from slokeeper.prometheus.client import Sample
from slokeeper.rollout.analysis import Outcome

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"


class _NoQueries:
    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        raise AssertionError(f"no query expected, got {promql}")


def test_a_freshness_slo_in_an_analysis_is_refused_with_where_it_belongs() -> None:
    rollout = ChangeRollout.model_validate(
        yaml.safe_load((SAMPLES / "changerollout.yaml").read_text())
    )
    rollout.spec.analysis.checks = []
    freshness = ServiceLevelObjective.model_validate(
        yaml.safe_load((SAMPLES / "slo-freshness.yaml").read_text())
    ).to_objective()
    verdict = analyse_canary(
        _NoQueries(), rollout.spec, "default", {"checkout-availability": freshness}
    )
    assert verdict.outcome is Outcome.QUERY_INVALID
    assert "ServiceLevelObjective checkout-availability: a freshness SLO has no events per pod" in (
        verdict.message
    )
    assert "gates.sloBudgetPolicies" in verdict.message


class _Recorder:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        self.queries.append(promql)
        return []


def test_stable_is_the_stable_replica_sets_pods_only() -> None:
    """Pods of a template no analysis passed, left in the target by a hand resume for a moment,
    must never count as stable."""
    rollout = ChangeRollout.model_validate(
        yaml.safe_load((SAMPLES / "changerollout.yaml").read_text())
    )
    rollout.spec.analysis.checks = []
    objective = ServiceLevelObjective.model_validate(
        yaml.safe_load((SAMPLES / "slo-ratio.yaml").read_text())
    ).to_objective()
    recorder = _Recorder()
    analyse_canary(
        recorder,
        rollout.spec,
        "default",
        {"checkout-availability": objective},
        "c4n4ry",
        stable_pod_template_hash="5t4b1e",
    )
    stable = [q for q in recorder.queries if "canary-c4n4ry" not in q.split("pod!~")[0]]
    assert stable, recorder.queries
    assert all('pod=~"checkout-5t4b1e-.*"' in q for q in stable), stable
