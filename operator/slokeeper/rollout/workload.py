"""What the rollout loop knows of the guarded Deployment and its canary: plain values read by an
adapter (``kube.rollout_target`` in production), so the loop and the core never hold a client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TargetMissingError(LookupError):
    """The guarded Deployment does not exist (a condition on the ChangeRollout, not a crash)."""


@dataclass(frozen=True)
class TargetView:
    """What the rollout loop needs to know about the guarded Deployment."""

    body: dict[str, Any]
    template_hash: str
    replicas: int
    paused: bool
    rolled_out: bool
    available: bool = False  # every replica available (paused or not)


@dataclass(frozen=True)
class CanaryView:
    present: bool
    template_hash: str | None = None
    replicas: int = 0
    ready_replicas: int = 0
    pod_template_hash: str | None = None  # of the canary's current ReplicaSet
