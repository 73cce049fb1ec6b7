"""The samples a first-time user copies are valid, and defaults are the documented ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from invalid_resources import SAMPLES, sample
from slokeeper.api.rollout import ChangeRollout, ChangeRolloutSpec
from slokeeper.api.rollout_gates import Risk
from slokeeper.api.slo import ServiceLevelObjective, ServiceLevelObjectiveSpec
from slokeeper.cli.validate import KINDS
from slokeeper.rollout.states import NoDataAction
from slokeeper.slo.objective import PolicyAction


@pytest.mark.parametrize("name", sorted(path.name for path in SAMPLES.glob("*.yaml")))
def test_every_sample_is_a_valid_resource(name: str) -> None:
    resource = sample(name)
    parsed = KINDS[resource["kind"]].model_validate(resource)
    assert parsed.metadata.name == resource["metadata"]["name"]


def test_a_minimal_rollout_gets_the_default_canary_plan() -> None:
    spec = ChangeRolloutSpec.model_validate({"targetRef": {"name": "checkout"}})
    assert [step.weight for step in spec.steps] == [5, 25, 50]
    assert spec.risk is Risk.MEDIUM
    assert spec.analysis.on_prometheus_unreachable is NoDataAction.HOLD
    assert spec.gates.approval.required_for == [Risk.HIGH]
    assert spec.rollback.automatic is True


def test_a_minimal_slo_uses_a_rolling_28_day_window_and_alerts() -> None:
    spec = ServiceLevelObjectiveSpec.model_validate(
        {
            "service": "checkout",
            "target": 99.9,
            "indicator": {"latency": {"metric": "http_request_duration_seconds", "threshold": 0.3}},
        }
    )
    assert spec.window.rolling == "28d"
    assert spec.alerting.enabled is True
    assert spec.alerting.severity.page == "critical"
    assert spec.budget_policy.thresholds == []


def test_the_budget_policy_keeps_the_order_the_user_wrote() -> None:
    spec = ServiceLevelObjective.model_validate(sample("slo-ratio.yaml")).spec
    actions = [threshold.action for threshold in spec.budget_policy.thresholds]
    assert actions == [PolicyAction.REQUIRE_APPROVAL, PolicyAction.FREEZE]


def test_an_unknown_time_zone_is_refused_with_its_name() -> None:
    resource = sample("slo-calendar.yaml")
    resource["spec"]["window"]["timeZone"] = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError, match="Mars/Olympus_Mons"):
        ServiceLevelObjective.model_validate(resource)


def test_an_unknown_field_is_refused_rather_than_ignored() -> None:
    resource = sample("changerollout.yaml")
    resource["spec"]["analysis"]["failureLimt"] = 3
    with pytest.raises(ValidationError, match="failureLimt"):
        ChangeRollout.model_validate(resource)


def test_the_sample_gates_become_the_cores_change_calendar() -> None:
    gates = ChangeRollout.model_validate(sample("changerollout.yaml")).spec.gates
    calendar = gates.change_calendar()
    assert calendar.time_zone == "Europe/Berlin"
    # Mon-Thu 09:00-17:00 Berlin: a Wednesday 10:00 UTC (11:00 local) is open ...
    assert calendar.verdict(datetime(2026, 11, 25, 10, tzinfo=UTC)).open
    # ... the year-end freeze is not, whatever the day.
    frozen = calendar.verdict(datetime(2026, 12, 23, 10, tzinfo=UTC))
    assert not frozen.open
    assert "Year-end freeze" in frozen.message


def test_the_sample_steps_become_the_state_machines_plan() -> None:
    plan = ChangeRollout.model_validate(sample("changerollout.yaml")).spec.to_plan()
    assert plan.weights == (5, 25, 50)
    assert plan.pauses_seconds == (120, 120, 120)
    assert plan.failure_limit == 2
    assert plan.max_inconclusive_seconds == 1800
