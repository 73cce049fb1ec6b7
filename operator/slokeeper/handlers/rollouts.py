"""The kopf side of ChangeRollouts: which Deployment each guards (an index), wake-ups of the
rollout scheduler (``handlers.rollout_scheduler``) on watch events, and the finalizer that lets go
of the target.
"""

from __future__ import annotations

import asyncio
from typing import Any

import kopf

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.rollout import ChangeRollout
from slokeeper.handlers.rollout_scheduler import Key
from slokeeper.handlers.runtime import runtime


@kopf.index(GROUP, VERSION, ChangeRollout.plural)
async def rollout_targets(
    *, namespace: str | None, name: str, spec: Any, **_: Any
) -> dict[Key, str]:
    """(namespace, target Deployment) → ChangeRollout name."""
    target = (spec.get("targetRef") or {}).get("name")
    return {(namespace or "default", target): name} if target else {}


@kopf.on.event(GROUP, VERSION, ChangeRollout.plural)
async def rollout_changed(
    *, namespace: str | None, name: str, meta: Any, type: str | None, memo: Any, **_: Any
) -> None:
    scheduler, key = runtime(memo).rollout_scheduler, (namespace or "default", name)
    if scheduler.news(("ChangeRollout", *key), meta.get("resourceVersion"), type):
        scheduler.wake(key)


@kopf.on.event("apps", "v1", "deployments")
async def deployment_changed(
    *, namespace: str | None, name: str, meta: Any, type: str | None, memo: Any, **kwargs: Any
) -> None:
    index: kopf.Index[Key, str] = kwargs["rollout_targets"]
    runtime(memo).rollout_scheduler.wake_for_deployment(
        index, namespace or "default", name, (meta.get("resourceVersion"), type)
    )


@kopf.on.delete(GROUP, VERSION, ChangeRollout.plural)
async def release_target(
    *, namespace: str | None, name: str, body: Any, memo: Any, **_: Any
) -> None:
    """Remove the canary and hand the target back (see RolloutLoop.release)."""
    loop = runtime(memo).rollout_loop
    await asyncio.to_thread(loop.release, namespace or "default", name, dict(body))
