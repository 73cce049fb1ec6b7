"""The task that ticks each ChangeRollout when due, or at once when a kopf handler wakes it.

A rollout is ticked when its last tick asked (its analysis interval, sooner at the gates when a
change window opens) or at once when its ChangeRollout, its target or its canary changes: a
template edit starts a change within a second, not at the next interval. Built by the composition
root; woken by the handlers in ``handlers.rollouts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import kopf
import urllib3
from kubernetes.client.exceptions import ApiException

from slokeeper.handlers.log_throttle import ThrottledLog
from slokeeper.kube.rollout_resource import is_conflict
from slokeeper.loops.rollout.loop import RolloutLoop, TickResult
from slokeeper.transport.no_answer import no_answer_reason

log = logging.getLogger("slokeeper.rollouts")
Key = tuple[str, str]

CONFLICT_RETRIES = 5
ERROR_RETRY_SECONDS = 10.0
IDLE_WAIT_SECONDS = 5.0


@dataclass
class RolloutScheduler:
    """Ticks each ChangeRollout when due, or at once when woken."""

    loop: RolloutLoop
    observe: Callable[[Key, TickResult | None], None] = lambda _key, _result: None
    due: dict[Key, float] = field(default_factory=dict)
    woken: set[Key] = field(default_factory=set)
    ticks: int = 0
    failures: ThrottledLog = field(default_factory=lambda: ThrottledLog(log))
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
                cause = f"API error {error.status} {error.reason}"
                self.failures.failure(cause, f"rollout {namespace}/{name}: {cause}")
                return ERROR_RETRY_SECONDS
            except (urllib3.exceptions.HTTPError, OSError) as error:
                cause = f"the API server did not answer: {no_answer_reason(error)}"
                self.failures.failure(cause, f"rollout {namespace}/{name}: {cause}")
                return ERROR_RETRY_SECONDS
            except Exception as error:  # a bug: its traceback, the first time
                cause = f"tick failed: {type(error).__name__}: {error}"[:300]
                self.failures.failure(cause, f"rollout {namespace}/{name}: {cause}", traceback=True)
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
