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
