"""`slokeeper rollout get`'s picture: the ChangeRollout, then each revision it knows (the canary,
the stable template, a candidate being promoted, older ones), their ReplicaSets and pods with
Ready, status, restarts and age — what `kubectl argo rollouts get rollout` draws.

Pure: it takes the objects as the API returns them (plain dicts) and the time, and returns lines.
A revision is a pod template as slokeeper names it (``status.stable.templateHash``), so the
canary's ReplicaSet and the target's ReplicaSet of the same template are one revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slokeeper.cli.slo_table import render
from slokeeper.kube.canary import canary_template_hash, template_hash, without_metadata_key

POD_TEMPLATE_HASH = "pod-template-hash"


@dataclass
class Revision:
    template_hash: str
    images: list[str]
    roles: list[str] = field(default_factory=list)
    replica_sets: list[dict[str, Any]] = field(default_factory=list)


def age(stamp: str | None, now: datetime) -> str:
    """How long ago, as kubectl's AGE column says it (45s, 12m, 5h, 3d)."""
    if not stamp:
        return "-"
    then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 3 * 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _owner(body: dict[str, Any]) -> str | None:
    owners = body["metadata"].get("ownerReferences") or []
    return next((str(o["uid"]) for o in owners if o.get("controller")), None)


def _images(template: dict[str, Any]) -> list[str]:
    return [c.get("image", "") for c in (template.get("spec") or {}).get("containers", [])]


def revisions(
    rollout: dict[str, Any],
    owners: dict[str, str],
    replica_sets: list[dict[str, Any]],
) -> list[Revision]:
    """The revisions of ``replica_sets``, the canary's first, then newest first; ``owners`` maps
    the uid of the target and of the canary Deployment to "target" and "canary" (ReplicaSets of
    neither are left out)."""
    status = rollout.get("status") or {}
    stable = (status.get("stable") or {}).get("templateHash")
    candidate = ((status.get("current") or {}).get("revision") or {}).get("templateHash")
    found: dict[str, Revision] = {}
    # The canary's first, then newest first: creation times have whole seconds, and a canary
    # made in the second its stable ReplicaSet was would otherwise sort by the API's listing.
    newest_first = sorted(
        replica_sets,
        key=lambda rs: (
            owners.get(_owner(rs) or "") == "canary",
            rs["metadata"].get("creationTimestamp", ""),
        ),
        reverse=True,
    )
    for body in newest_first:
        owner = owners.get(_owner(body) or "")
        if owner is None:
            continue
        template = without_metadata_key(body["spec"]["template"], "labels", POD_TEMPLATE_HASH)
        named = canary_template_hash(template) if owner == "canary" else template_hash(template)
        revision = found.setdefault(named, Revision(named, _images(template)))
        revision.replica_sets.append(body)
        role = "canary" if owner == "canary" else "stable" if named == stable else ""
        role = role or ("candidate" if named == candidate else "")
        if role and role not in revision.roles:
            revision.roles.append(role)
    return list(found.values())


def _pod_status(pod: dict[str, Any]) -> tuple[str, str, int]:
    """What the pod's STATUS column says (a container's waiting reason first, as kubectl), its
    ready containers as ``1/1``, and its restarts."""
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    said = status.get("phase", "Unknown")
    for container in containers:
        state = container.get("state") or {}
        reason = (state.get("waiting") or state.get("terminated") or {}).get("reason")
        if reason:
            said = reason
            break
    if pod["metadata"].get("deletionTimestamp"):
        said = "Terminating"
    ready = sum(1 for c in containers if c.get("ready"))
    total = len((pod.get("spec") or {}).get("containers", [])) or len(containers)
    restarts = sum(int(c.get("restartCount", 0)) for c in containers)
    return said, f"{ready}/{total}", restarts


def _mark(ok: bool, waiting: bool = False) -> str:
    return "✔" if ok else "◌" if waiting else "✖"


def _replica_set_rows(
    body: dict[str, Any], pods: list[dict[str, Any]], now: datetime, indent: str
) -> list[list[str]]:
    spec, status = body.get("spec") or {}, body.get("status") or {}
    desired, ready = int(spec.get("replicas") or 0), int(status.get("readyReplicas") or 0)
    health = "ScaledDown" if desired == 0 else "Healthy" if ready >= desired else "Progressing"
    rows = [
        [
            f"{indent}⧉ {body['metadata']['name']}",
            "ReplicaSet",
            f"{_mark(ready >= desired, waiting=True)} {health}",
            age(body["metadata"].get("creationTimestamp"), now),
            f"{ready}/{desired} ready",
        ]
    ]
    uid = body["metadata"].get("uid")
    mine = sorted((p for p in pods if _owner(p) == uid), key=lambda p: p["metadata"]["name"])
    child = indent.replace("├──", "│  ").replace("└──", "   ")
    for index, pod in enumerate(mine):
        branch = "└──" if index == len(mine) - 1 else "├──"
        said, ready_containers, restarts = _pod_status(pod)
        ready_count, _, total = ready_containers.partition("/")
        running = said == "Running" and ready_count == total
        info = f"ready:{ready_containers}" + (f",restarts:{restarts}" if restarts else "")
        rows.append(
            [
                f"{child}{branch}□ {pod['metadata']['name']}",
                "Pod",
                f"{_mark(running, waiting=said in ('Pending', 'ContainerCreating'))} {said}",
                age(pod["metadata"].get("creationTimestamp"), now),
                info,
            ]
        )
    return rows


def tree(
    rollout: dict[str, Any],
    found: list[Revision],
    pods: list[dict[str, Any]],
    now: datetime,
) -> list[str]:
    """The ChangeRollout, then each revision with its ReplicaSets and their pods."""
    status = rollout.get("status") or {}
    phase, reason = status.get("phase", "Idle"), status.get("reason", "")
    current = status.get("current") or {}
    step = current.get("steps", [{}])[-1] if current.get("steps") else {}
    info = ""
    if phase == "Progressing" and current:
        planned = len((rollout.get("spec") or {}).get("steps", [])) or "?"
        weight = step.get("canaryWeightPercent", 0)
        info = f"step {current.get('step', 0) + 1}/{planned}, canary {weight:g}%"
    rows = [
        ["NAME", "KIND", "STATUS", "AGE", "INFO"],
        [
            f"⟳ {rollout['metadata']['name']}",
            "ChangeRollout",
            phase + (f" ({reason})" if reason and reason != phase else ""),
            age(rollout["metadata"].get("creationTimestamp"), now),
            info,
        ],
    ]
    for index, revision in enumerate(found):
        last = index == len(found) - 1
        roles = ", ".join(revision.roles)
        rows.append(
            [
                f"{'└──' if last else '├──'}# revision {revision.template_hash[:8]}",
                "",
                roles,
                "",
                ", ".join(revision.images),
            ]
        )
        inner = "   " if last else "│  "
        for position, body in enumerate(revision.replica_sets):
            branch = "└──" if position == len(revision.replica_sets) - 1 else "├──"
            rows += _replica_set_rows(body, pods, now, inner + branch)
    return render(rows).splitlines()
