"""The rollout loop's ports: a tick reads and changes the world only through these.

The adapters implement them: ``kube.rollout_resource.RolloutStore``,
``kube.rollout_target.DeploymentWorkload``, ``kube.rollout_commands.AnnotationRequests`` and
``prometheus.canary_analysis.PrometheusCanaryEvidence``; unit tests give fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.rollout.analysis import Verdict
from slokeeper.rollout.requests import PendingRequests
from slokeeper.rollout.states import Action
from slokeeper.rollout.workload import CanaryView, TargetView
from slokeeper.slo.objective import Objective


class RolloutObjects(Protocol):
    """The ChangeRollout and the SLOs it names: reads, and the status write guarded by the
    resourceVersion the tick read (a conflict restarts the tick on a fresh read)."""

    def read(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def read_slo(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def read_policy(self, namespace: str) -> dict[str, Any] | None:
        """The namespace's ChangePolicy (``default``), if any."""
        ...

    def write_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str
    ) -> str: ...

    def remove_annotations(
        self, namespace: str, name: str, keys: list[str], resource_version: str
    ) -> None: ...


class Workload(Protocol):
    """The guarded Deployment and its canary."""

    def read_target(self, namespace: str, name: str) -> TargetView:
        """Raises ``TargetMissingError`` when the Deployment does not exist."""
        ...

    def read_canary(self, namespace: str, target: str) -> CanaryView: ...

    def apply(self, owner: ObjectRef, target: TargetView, actions: tuple[Action, ...]) -> None: ...

    def record(self, owner: ObjectRef, reason: str, message: str, warning: bool = False) -> None:
        """Post an Event on ``owner``."""
        ...

    def mark(self, target: TargetView, guard: tuple[str, str] | None) -> None:
        """Annotate the target with the ChangeRollout guarding it and its phase (None: remove
        both)."""
        ...


class RequestReader(Protocol):
    """What people asked of a ChangeRollout, from its metadata."""

    def read(self, metadata: dict[str, Any]) -> PendingRequests:
        """From the ChangeRollout's metadata: its annotations, and their managedFields (when
        each was set)."""
        ...

    def keys(self, pending: PendingRequests) -> list[str]:
        """The annotations to remove once ``pending`` is recorded in status."""
        ...


class CanaryEvidence(Protocol):
    """Analyses of a running canary, and what a finished change cost. Never raises for a
    Prometheus problem: an analysis says it in its outcome, a cost is unknown (None)."""

    def analyse(
        self,
        spec: ChangeRolloutSpec,
        namespace: str,
        objectives: Mapping[str, Objective | str],
        pod_template_hash: str | None,
        stable_pod_template_hash: str | None = None,
    ) -> Verdict: ...

    def budget_burned(
        self,
        objective: Objective,
        *,
        target: str,
        pod_template_hash: str,
        change_seconds: float,
        window_seconds: float,
        at: datetime,
    ) -> tuple[float | None, float | None]: ...
