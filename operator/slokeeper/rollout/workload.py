"""What the rollout loop knows of the guarded Deployment and its canary: plain values read by an
adapter (``kube.rollout_target`` in production), so the loop and the core never hold a client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


class TargetMissingError(LookupError):
    """The guarded Deployment does not exist (a condition on the ChangeRollout, not a crash)."""


@dataclass(frozen=True)
class ReplicaSetView:
    """One of the target's own ReplicaSets: which template its pods run, and how many."""

    name: str
    template_hash: str  # as ``template_hash`` names the Deployment's template
    replicas: int
    restart_hash: str = ""  # the same, without kubectl.kubernetes.io/restartedAt
    ready_replicas: int = 0
    pod_template_hash: str = ""


@dataclass(frozen=True)
class TargetView:
    """What the rollout loop needs to know about the guarded Deployment."""

    body: dict[str, Any]
    template_hash: str
    replicas: int
    paused: bool
    rolled_out: bool
    available: bool = False  # every replica available (paused or not)
    replica_sets: tuple[ReplicaSetView, ...] = ()
    # From the Deployment's Progressing condition: when its rollout last made progress, and
    # since when it has given up (ProgressDeadlineExceeded), if it has.
    progressed_at: datetime | None = None
    stalled_at: datetime | None = None
    changed_by: str = ""  # the last field manager other than slokeeper to change its spec
    problems: tuple[str, ...] = ()  # while it rolls out: what its new pods not Ready say
    guarded_by: str | None = None  # the ChangeRollout that guards it, as marked on it
    restart_hash: str = ""  # its template's hash without kubectl.kubernetes.io/restartedAt
    template_changed_at: datetime | None = None  # when its pod template last changed
    undone_at: datetime | None = None  # when `slokeeper rollout undo` set that template

    def restarts(self, template: str) -> bool:
        """Its template is ``template`` with only the restartedAt annotation changed (a restart
        of the pods of that template, not a change)."""
        return self.template_hash != template and any(
            rs.template_hash == template and rs.restart_hash == self.restart_hash
            for rs in self.replica_sets
        )

    def pods_not_of(self, template: str) -> int:
        """Pods the target's ReplicaSets run of any template but ``template``."""
        return sum(rs.replicas for rs in self.replica_sets if rs.template_hash != template)

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def images(self) -> tuple[str, ...]:
        """The images of the target's current pod template, in container order."""
        containers = self.body["spec"]["template"]["spec"]["containers"]
        return tuple(str(c.get("image", "")) for c in containers)


@dataclass(frozen=True)
class CanaryView:
    """The canary Deployment as the rollout loop sees it (``present=False``: none, or going)."""

    present: bool
    # The ChangeRollout that owns it; None for a Deployment of that name nobody's rollout made.
    owner_uid: str | None = None
    template_hash: str | None = None
    replicas: int = 0
    ready_replicas: int = 0
    pod_template_hash: str | None = None  # of the canary's current ReplicaSet
    problems: tuple[str, ...] = ()  # what its pods that are not Ready say, one line each
    # Who set its replicas, when that was not slokeeper ("kubectl-scale at …"; ``replicas_set_by``)
    scaled_by: str = ""


def replicas_set_by(metadata: dict[str, Any], own: str) -> str:
    """The field manager that owns a Deployment's ``spec.replicas`` (and when it set them, where
    its entry says), if it is not ``own`` (slokeeper's): what a hand ``kubectl scale`` leaves in
    ``managedFields``, through the scale subresource or not. "" when slokeeper set them last (a
    write that changes a field takes it over)."""
    owners = [
        entry
        for entry in metadata.get("managedFields") or []
        if "f:replicas" in (((entry.get("fieldsV1") or {}).get("f:spec")) or {})
        and entry.get("manager") != own
    ]
    latest = max(owners, key=lambda e: str(e.get("time") or ""), default=None)
    if latest is None:
        return ""
    manager = str(latest.get("manager") or "an unnamed tool")
    # A `kubectl scale` through the scale subresource leaves no time on its entry.
    return f"{manager} at {latest['time']}" if latest.get("time") else manager
