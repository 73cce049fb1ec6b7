"""What one tick of the rollout loop read, before deciding anything: the ChangeRollout parsed
once into its typed spec and status, the target and canary, what people asked, and the SLOs it
names (each read at most once per tick)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.api.rollout_status import ChangeRolloutStatus
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.rollout.change_calendar import CalendarVerdict
from slokeeper.rollout.requests import PendingRequests
from slokeeper.rollout.states import Plan, State
from slokeeper.rollout.workload import CanaryView, TargetView
from slokeeper.slo.objective import Objective


@dataclass(frozen=True)
class Observed:
    owner: ObjectRef
    resource_version: str
    generation: int
    spec: ChangeRolloutSpec
    plan: Plan
    stored_status: dict[str, Any]  # as the API server holds it: written again only if changed
    status: ChangeRolloutStatus
    before: State
    target: TargetView
    canary: CanaryView
    asked: PendingRequests
    now: datetime
    calendar: CalendarVerdict
    read_slo: Callable[[str], dict[str, Any] | None]

    @property
    def namespace(self) -> str:
        return self.owner.namespace

    @property
    def name(self) -> str:
        return self.owner.name

    def objective(self, slo: str) -> Objective | str:
        """The named SLO as the core's Objective, or why there is none."""
        body = self.read_slo(slo)
        if body is None:
            return "not found"
        try:
            return ServiceLevelObjective.model_validate(body).to_objective()
        except ValidationError as error:
            return f"invalid spec: {error.error_count()} problem(s)"
