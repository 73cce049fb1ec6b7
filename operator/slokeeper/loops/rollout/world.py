"""What the state machine is told about the world in one tick, worked out from what the loop
observed: the target and its ReplicaSets, the canary, the verdict, the gates, what people asked."""

from __future__ import annotations

from slokeeper.api.rollout_status import ChangeOutcome, ChangeRolloutStatus
from slokeeper.loops.rollout.observed import Observed
from slokeeper.rollout.analysis import Verdict
from slokeeper.rollout.drill import Drill
from slokeeper.rollout.replicas import actual_weight_percent, canary_replicas
from slokeeper.rollout.requests import Request
from slokeeper.rollout.states import Gate, World
from slokeeper.rollout.workload import TargetView


def world_of(seen: Observed, verdict: Verdict | None, gate: Gate, drill: Drill | None) -> World:
    """What the state machine is told about the world this tick."""
    before, target, canary = seen.before, seen.target, seen.canary
    stalled_at, promoted_at = target.stalled_at, before.promotion_started
    undo = seen.asked.requests.get(Request.UNDO)
    return World(
        target_template=target.template_hash,
        stable_replicas=target.replicas,
        target_rolled_out=target.rolled_out,
        verdict=verdict.outcome if verdict else None,
        verdict_message=verdict.message if verdict else "",
        gate=gate,
        command=seen.asked.command(),
        command_revision=undo.revision if undo else None,
        undo_known_good=bool(undo and undo.revision in _known_good(seen.status)),
        target_restarts_stable=bool(before.stable and target.restarts(before.stable)),
        # A drill's canary is the drill's to remove, not a leftover.
        canary_present=canary.present and drill is None,
        canary_ready=canary_ready(seen),
        canary_problem="; ".join(canary.problems),
        canary_replicas=canary.replicas,
        canary_ran=_canary_ran(seen),
        canary_scaled_by=canary.scaled_by,
        canary_foreign=(
            canary.template_hash
            if canary.present
            and canary.template_hash != before.candidate
            and before.candidate == target.template_hash
            else None
        ),
        target_running_template=_running_template(target),
        target_unverified_pods=target.pods_not_of(before.stable or target.template_hash),
        target_changed_by=target.changed_by,
        target_progressed_at=target.progressed_at,
        # A stall reported before this promotion began belongs to an earlier rollout.
        target_stalled=bool(stalled_at and promoted_at and stalled_at >= promoted_at),
        target_problem="; ".join(target.problems),
    )


def _canary_ran(seen: Observed) -> bool:
    """This change's canary has been seen running (its pods' hash is on the record), so one
    missing now was deleted, not yet to be created."""
    current = seen.status.current
    return bool(
        current
        and current.canary_pod_template_hash
        and current.revision.template_hash == seen.before.candidate
    )


def serving_weight(seen: Observed) -> float:
    """The canary's actual share of the Ready pods of the target and the canary: 0 until a
    canary pod is Ready, whatever the step plans."""
    canary = seen.canary.ready_replicas if seen.canary.present else 0
    stable = int((seen.target.body.get("status") or {}).get("readyReplicas") or 0)
    return actual_weight_percent(stable, canary)


def _known_good(status: ChangeRolloutStatus) -> set[str]:
    """Templates that were stable here: the stable one, those each change began from, and each
    change promoted."""
    known = {status.stable.template_hash} if status.stable else set()
    for change in status.history:
        known.add(change.stable_template_hash or "")
        if change.outcome is ChangeOutcome.PROMOTED:
            known.add(change.revision.template_hash)
    return known - {""}


def _running_template(target: TargetView) -> str:
    """The template a paused target's pods run: its own, unless a single other ReplicaSet holds
    every pod (a change held when its ChangeRollout was deleted, to be adopted as not stable)."""
    active = [rs for rs in target.replica_sets if rs.replicas]
    if target.paused and len(active) == 1:
        return active[0].template_hash
    return target.template_hash


def canary_ready(seen: Observed) -> bool:
    """The canary runs the candidate with every pod the current step asks for Ready."""
    before, canary = seen.before, seen.canary
    wanted = canary_replicas(seen.target.replicas, seen.plan.weights[before.step])
    return canary.template_hash == before.candidate and canary.ready_replicas >= wanted
