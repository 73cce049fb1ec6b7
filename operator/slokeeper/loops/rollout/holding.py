"""When a ChangeRollout cannot guard its target, or lets go of it: the conditions say why, the
target is held paused (fail closed), and on deletion the canary goes and the target is handed
back. Used by ``RolloutLoop``; reaches the world through the same ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout import ChangeRollout
from slokeeper.loops.rollout.ports import RolloutObjects, Workload
from slokeeper.loops.rollout.status import problem_status
from slokeeper.rollout.states import Action, DeleteCanary, PauseTarget, ResumeTarget
from slokeeper.rollout.workload import TargetMissingError


class Holding:
    def __init__(
        self, objects: RolloutObjects, workload: Workload, clock: Callable[[], datetime]
    ) -> None:
        self.objects = objects
        self.workload = workload
        self.clock = clock

    def release(self, namespace: str, name: str, body: dict[str, Any]) -> None:
        """The ChangeRollout is being deleted: remove the canary and hand the target back.

        On its stable template the target is resumed, as it was before slokeeper guarded it. In
        the middle of a change it stays paused on its stable ReplicaSet (resuming would roll out
        a template nobody verified) and an Event on the Deployment says so and how to go on.
        """
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, body["metadata"]["uid"])
        target_name = body["spec"]["targetRef"]["name"]
        try:
            target = self.workload.read_target(namespace, target_name)
        except TargetMissingError:
            return
        if target.guarded_by not in (None, name):
            return  # guarded by another ChangeRollout: not this one's to hand back
        stable = ((body.get("status") or {}).get("stable") or {}).get("templateHash")
        self.workload.mark(target, None)
        if stable in (None, target.template_hash):
            self.workload.apply(owner, target, (DeleteCanary(), ResumeTarget()))
            return
        self.workload.apply(owner, target, (DeleteCanary(),))
        deployment = ObjectRef(
            "Deployment", namespace, target_name, target.body["metadata"]["uid"], "apps/v1"
        )
        self.workload.record(
            deployment,
            "LeftPaused",
            f"ChangeRollout {name} was deleted while template {target.template_hash} was not "
            f"verified: the Deployment stays paused on its stable pods. `kubectl rollout resume "
            f"deployment/{target_name} -n {namespace}` rolls the new template out unguarded.",
            warning=True,
        )

    def fail_safe(self, namespace: str, name: str, error: str) -> None:
        """A tick failed in a way no retry fixes (a bug, an input nothing refused): never keep a
        canary serving in silence. The canary is removed, the target held paused on its stable
        pods, and the conditions and an Event say why; once fixed, the next tick carries on."""
        body = self.objects.read(namespace, name)
        if body is None:
            return
        owner = ObjectRef(ChangeRollout.kind_name, namespace, name, body["metadata"]["uid"])
        message = (
            f"The rollout could not decide ({error}); its canary was removed and the target "
            f"holds its stable pods until this is fixed."
        )
        self.problem(body, owner, "TickFailed", message, self.clock())
        target_name = (body.get("spec") or {}).get("targetRef", {}).get("name")
        self._apply_to_own(target_name, owner, (DeleteCanary(), PauseTarget()))

    def hold(self, target_name: object, owner: ObjectRef) -> None:
        """Fail closed: a ChangeRollout that cannot guard its target still keeps changes from
        rolling out unguarded — the target stays paused, and nothing else is touched."""
        self._apply_to_own(target_name, owner, (PauseTarget(),))

    def _apply_to_own(
        self, target_name: object, owner: ObjectRef, actions: tuple[Action, ...]
    ) -> None:
        """Apply ``actions`` to the target, unless it is gone or another ChangeRollout's."""
        if not isinstance(target_name, str) or not target_name:
            return
        try:
            target = self.workload.read_target(owner.namespace, target_name)
        except TargetMissingError:
            return
        if target.guarded_by in (None, owner.name):
            self.workload.apply(owner, target, actions)

    def problem(
        self, body: dict[str, Any], owner: ObjectRef, reason: str, message: str, now: datetime
    ) -> None:
        """Say what is wrong on the conditions (and once as an Event); change nothing else."""
        meta, status = body["metadata"], body.get("status") or {}
        ready: dict[str, Any] = next(
            (c for c in status.get("conditions", []) if c["type"] == "Ready"), {}
        )
        if ready.get("reason") == reason and ready.get("message") == message:
            return
        new_status = problem_status(status, int(meta.get("generation", 0)), now, reason, message)
        self.objects.write_status(owner.namespace, owner.name, new_status, meta["resourceVersion"])
        self.workload.record(owner, reason, message, warning=True)
