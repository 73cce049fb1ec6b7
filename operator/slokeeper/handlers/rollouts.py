"""The kopf side of ChangeRollouts: which Deployment each guards, wake-ups on watch events, the
task that ticks each rollout when due, and the finalizer that lets go of the target.

A rollout is ticked when its last tick asked (its analysis interval, sooner at the gates when a
change window opens) or at once when its ChangeRollout, its target or its canary changes: a
template edit starts a change within a second, not at the next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.rollout import ChangeRollout
from slokeeper.kube.rollout_resource import is_conflict
from slokeeper.loops.rollout.loop import RolloutLoop, TickResult

log = logging.getLogger("slokeeper.rollouts")
Key = tuple[str, str]

CONFLICT_RETRIES = 5
ERROR_RETRY_SECONDS = 10.0
IDLE_WAIT_SECONDS = 5.0


@kopf.index(GROUP, VERSION, ChangeRollout.plural)
async def rollout_targets(
    *, namespace: str | None, name: str, spec: Any, **_: Any
) -> dict[Key, str]:
    """(namespace, target Deployment) → ChangeRollout name."""
    target = (spec.get("targetRef") or {}).get("name")
    return {(namespace or "default", target): name} if target else {}


@dataclass
class RolloutScheduler:
    """Ticks each ChangeRollout when due, or at once when woken."""

    loop: RolloutLoop
    observe: Callable[[Key, TickResult | None], None] = lambda _key, _result: None
    due: dict[Key, float] = field(default_factory=dict)
    woken: set[Key] = field(default_factory=set)
    ticks: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self, key: Key) -> None:
        self.woken.add(key)
        self._wake.set()

    def wake_for_deployment(self, index: kopf.Index[Key, str], namespace: str, name: str) -> None:
        """Wake the rollouts guarding this Deployment, or whose canary it is."""
        targets = {name, name.removesuffix("-canary")}
        for target in targets:
            for rollout in index.get((namespace, target), ()):
                self.wake((namespace, rollout))

    async def run(self, index: kopf.Index[Key, str]) -> None:
        while True:
            keys = {(ns, rollout) for (ns, _), store in index.items() for rollout in store}
            for gone in set(self.due) - keys:
                del self.due[gone]
                self.observe(gone, None)
            now = time.monotonic()
            ready = sorted(k for k in keys if k in self.woken or self.due.get(k, 0) <= now)
            self.woken -= set(ready)
            self._wake.clear()
            for key in ready:
                self.due[key] = time.monotonic() + await asyncio.to_thread(self._tick, key)
            upcoming = [self.due[k] for k in keys if k in self.due]
            wait = min(upcoming, default=now + IDLE_WAIT_SECONDS) - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.05, wait))

    def _tick(self, key: Key) -> float:
        """One tick, retried on a fresh read after a conflict; seconds until the next."""
        namespace, name = key
        for _ in range(CONFLICT_RETRIES):
            try:
                result = self.loop.tick(namespace, name)
            except ApiException as error:
                if is_conflict(error):
                    continue
                log.warning(
                    "rollout %s/%s: API error %s %s", namespace, name, error.status, error.reason
                )
                return ERROR_RETRY_SECONDS
            except Exception:
                log.exception("rollout %s/%s: tick failed", namespace, name)
                return ERROR_RETRY_SECONDS
            self.ticks += 1
            self.observe(key, result)
            if result.analysed is not None:
                log.info(
                    "rollout %s/%s: analysis %s, phase %s",
                    namespace,
                    name,
                    result.analysed.value,
                    result.phase.value if result.phase else "-",
                )
            return result.delay_seconds
        log.warning(
            "rollout %s/%s: still conflicting after %d reads", namespace, name, CONFLICT_RETRIES
        )
        return 1.0


@kopf.on.event(GROUP, VERSION, ChangeRollout.plural)
async def rollout_changed(*, namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    scheduler: RolloutScheduler | None = memo.get("rollout_scheduler")
    if scheduler is not None:
        scheduler.wake((namespace or "default", name))


@kopf.on.event("apps", "v1", "deployments")
async def deployment_changed(*, namespace: str | None, name: str, memo: Any, **kwargs: Any) -> None:
    scheduler: RolloutScheduler | None = memo.get("rollout_scheduler")
    if scheduler is not None:
        index: kopf.Index[Key, str] = kwargs["rollout_targets"]
        scheduler.wake_for_deployment(index, namespace or "default", name)


@kopf.on.delete(GROUP, VERSION, ChangeRollout.plural)
async def release_target(
    *, namespace: str | None, name: str, body: Any, memo: Any, **_: Any
) -> None:
    """Remove the canary and hand the target back (see RolloutLoop.release)."""
    loop: RolloutLoop = memo["rollout_loop"]
    await asyncio.to_thread(loop.release, namespace or "default", name, dict(body))
