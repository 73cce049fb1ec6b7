"""What the operator keeps of one SLO between cycles: the spec parsed once, when the watch reports
it (the kopf index holds these), and the status as last seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.slo.objective import Objective

Key = tuple[str, str]


@dataclass(frozen=True)
class SLORecord:
    """What the operator keeps of one SLO between cycles (from the watch): the spec already
    parsed into the core's Objective (or why it could not be), and the status as last seen."""

    namespace: str
    name: str
    uid: str
    generation: int
    objective: Objective | None
    invalid: str | None
    status: dict[str, Any]
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


def slo_record(
    *,
    namespace: str,
    name: str,
    uid: str,
    generation: int,
    spec: Any,
    status: Any,
    labels: Any = None,
) -> SLORecord:
    """Parse an SLO once, when the watch reports it, instead of every cycle."""
    body = {"metadata": {"name": name, "namespace": namespace}, "spec": dict(spec)}
    try:
        objective: Objective | None = ServiceLevelObjective.model_validate(body).to_objective()
        invalid = None
    except ValidationError as error:
        objective = None
        invalid = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
    return SLORecord(
        namespace,
        name,
        uid,
        generation,
        objective,
        invalid,
        dict(status),
        tuple(sorted(dict(labels or {}).items())),
    )
