"""The task that ticks each ChangeRollout when due, or at once when a kopf handler wakes it.

A rollout is ticked when its last tick asked (its analysis interval, sooner at the gates when a
change window opens) or at once when its ChangeRollout, its target or its canary changes: a
template edit starts a change within a second, not at the next interval. Ticks of different
rollouts run at once in a pool of ``concurrency`` threads, so one slow call delays no other
rollout; two ticks of one rollout never overlap, and a rollout woken while its tick runs is ticked
again as soon as it ends. Built by the composition root; woken by the handlers in
``handlers.rollouts``; ``stalled`` tells liveness about a tick that does not end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import kopf
import urllib3
from kubernetes.client.exceptions import ApiException

from slokeeper.handlers.health import STALLED_AFTER_SECONDS, since
from slokeeper.handlers.log_throttle import ThrottledLog
from slokeeper.handlers.rollout_pool import DEFAULT_CONCURRENCY
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
    """Ticks each ChangeRollout when due, or at once when woken, ``concurrency`` at a time."""

    loop: RolloutLoop
    observe: Callable[[Key, TickResult | None], None] = lambda _key, _result: None
    concurrency: int = DEFAULT_CONCURRENCY
    clock: Callable[[], float] = time.monotonic
    due: dict[Key, float] = field(default_factory=dict)
    woken: set[Key] = field(default_factory=set)
    versions: dict[tuple[str, str, str], str] = field(default_factory=dict)  # last seen, by object
    running: dict[Key, float] = field(default_factory=dict)  # when each running tick started
    ticks: int = 0
    failures: ThrottledLog = field(default_factory=lambda: ThrottledLog(log))
    progressed_at: float | None = None  # when a tick last started or ended
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _failures_lock: threading.Lock = field(default_factory=threading.Lock)

    def wake(self, key: Key) -> None:
        self.woken.add(key)
        self._wake.set()

    def wake_for_deployment(
        self,
        index: kopf.Index[Key, str],
        namespace: str,
        name: str,
        event: tuple[str | None, str | None] = (None, "MODIFIED"),
    ) -> None:
        """Wake the rollouts guarding this Deployment, or whose canary it is, when the event
        (resourceVersion, type) says something new."""
        targets = {name, name.removesuffix("-canary")}
        rollouts = [r for t in targets for r in index.get((namespace, t), ())]
        if rollouts and self.news(("Deployment", namespace, name), *event):
            for rollout in rollouts:
                self.wake((namespace, rollout))

    def news(self, obj: tuple[str, str, str], version: str | None, kind: str | None) -> bool:
        """Whether a watch event about ``obj`` (kind, namespace, name) tells something not seen
        yet: kopf lists every object again when it restarts a quiet watch (every ~70 s at rest),
        and waking every rollout for those replays would tick 500 of them a minute for nothing."""
        if kind == "DELETED" or version is None:
            self.versions.pop(obj, None)
            return True
        if self.versions.get(obj) == version:
            return False
        self.versions[obj] = version
        return True

    async def run(self, index: kopf.Index[Key, str]) -> None:
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="rollout-tick")
        try:
            while True:
                keys = {(ns, rollout) for (ns, _), store in index.items() for rollout in store}
                for gone in set(self.due) - keys:
                    del self.due[gone]
                    self.observe(gone, None)
                self._wake.clear()
                for key in self._ready(keys):
                    self._start(key, pool)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._wait_seconds(keys))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _ready(self, keys: set[Key]) -> list[Key]:
        """The rollouts to tick now, as many as the pool has room for: woken ones first, then
        the longest overdue."""
        now = self.clock()
        waiting = [
            key
            for key in keys
            if key not in self.running and (key in self.woken or self.due.get(key, 0) <= now)
        ]
        waiting.sort(key=lambda key: (key not in self.woken, self.due.get(key, 0), key))
        return waiting[: max(0, self.concurrency - len(self.running))]

    def _wait_seconds(self, keys: set[Key]) -> float:
        """Until the next rollout is due; a full pool waits for a tick to end (it wakes us)."""
        now = self.clock()
        if len(self.running) >= self.concurrency:
            return IDLE_WAIT_SECONDS
        upcoming = [self.due[k] for k in keys if k in self.due and k not in self.running]
        return max(0.05, min(upcoming, default=now + IDLE_WAIT_SECONDS) - now)

    def _start(self, key: Key, pool: ThreadPoolExecutor) -> None:
        self.woken.discard(key)
        self.running[key] = self.progressed_at = self.clock()
        future = asyncio.get_running_loop().run_in_executor(pool, self._tick, key)
        future.add_done_callback(lambda done: self._ended(key, done))

    def _ended(self, key: Key, done: asyncio.Future[tuple[float, TickResult | None]]) -> None:
        """In the event loop, when ``key``'s tick has ended: when it is due next."""
        self.running.pop(key, None)
        self.progressed_at = self.clock()
        self._wake.set()
        if done.cancelled():
            return
        delay, result = done.result()
        self.due[key] = self.clock() + delay
        if result is not None:
            self.ticks += 1
            self.observe(key, result)

    def stalled(self) -> str | None:
        """Why liveness should fail: a tick that has run for too long, or rollouts overdue
        while no tick has started or ended for as long. None while the scheduler progresses."""
        now, running, due = self.clock(), self.running.copy(), self.due.copy()
        if running:
            (namespace, name), started = min(running.items(), key=lambda item: item[1])
            if now - started > STALLED_AFTER_SECONDS:
                tick = f"the tick of {namespace}/{name}"
                return f"rollout scheduler: {tick} has been running {since(now - started)}"
        overdue = [at for key, at in due.items() if key not in running and at < now]
        if not overdue or self.progressed_at is None:
            return None
        quiet = now - self.progressed_at
        if now - min(overdue) <= STALLED_AFTER_SECONDS or quiet <= STALLED_AFTER_SECONDS:
            return None
        return (
            f"rollout scheduler: {len(overdue)} rollout(s) due, yet no tick started or ended "
            f"{since(quiet)}"
        )

    def _fail_safe(self, key: Key, cause: str) -> None:
        """Take the canary of a rollout whose tick failed out of service (RolloutLoop.fail_safe);
        if even that fails, the log says so and the next attempt tries again."""
        try:
            self.loop.fail_safe(*key, cause)
        except Exception as error:
            self._failed(
                f"fail-safe failed: {type(error).__name__}",
                f"rollout {key[0]}/{key[1]}: could not take its canary out of service: {error}",
            )

    def _failed(self, cause: str, message: str, *, traceback: bool = False) -> float:
        with self._failures_lock:  # ticks run in several threads
            self.failures.failure(cause, message, traceback=traceback)
        return ERROR_RETRY_SECONDS

    def _tick(self, key: Key) -> tuple[float, TickResult | None]:
        """One tick, in a pool thread, retried on a fresh read after a conflict: seconds until
        the next, and what it did (None when it failed)."""
        namespace, name = key
        for _ in range(CONFLICT_RETRIES):
            try:
                result = self.loop.tick(namespace, name)
            except ApiException as error:
                if is_conflict(error):
                    continue
                cause = f"API error {error.status} {error.reason}"
                return self._failed(cause, f"rollout {namespace}/{name}: {cause}"), None
            except (urllib3.exceptions.HTTPError, OSError) as error:
                cause = f"the API server did not answer: {no_answer_reason(error)}"
                return self._failed(cause, f"rollout {namespace}/{name}: {cause}"), None
            except Exception as error:  # a bug: its traceback, the first time
                cause = f"tick failed: {type(error).__name__}: {error}"[:300]
                message = f"rollout {namespace}/{name}: {cause}"
                self._fail_safe(key, cause)
                return self._failed(cause, message, traceback=True), None
            if result.analysed is not None:
                log.info(
                    "rollout %s/%s: analysis %s, phase %s",
                    namespace,
                    name,
                    result.analysed.value,
                    result.phase.value if result.phase else "-",
                )
            return result.delay_seconds, result
        log.warning(
            "rollout %s/%s: still conflicting after %d reads", namespace, name, CONFLICT_RETRIES
        )
        return 1.0, None
