"""What the kopf handlers use, as one typed object in kopf's memo: the loops, the rollout
scheduler, health, metrics and the operator's tasks.

The composition root (``handlers.composition``) builds it before kopf starts; the startup handler
starts its tasks and the cleanup handler stops them. Handlers read it through ``runtime(memo)``,
never through loose memo keys.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import kopf

from slokeeper.handlers.background import cycle_stalled_after, heartbeat, run_slo_loop
from slokeeper.handlers.health import OperatorHealth
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.handlers.rollout_scheduler import Key, RolloutScheduler
from slokeeper.loops.rollout.loop import RolloutLoop
from slokeeper.loops.slo.loop import SLOLoop
from slokeeper.prometheus.client import PrometheusClient

MEMO_KEY = "runtime"


@dataclass
class Runtime:
    health: OperatorHealth
    metrics: OperatorMetrics
    prometheus: PrometheusClient  # the one client of both loops
    slo_loop: SLOLoop
    rollout_loop: RolloutLoop
    rollout_scheduler: RolloutScheduler
    interval_seconds: float
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def memo(self) -> kopf.Memo:
        return kopf.Memo({MEMO_KEY: self})

    def start(
        self,
        slo_index: kopf.Index[Any, Any],
        maintenance_index: kopf.Index[Any, Any],
        rollout_targets: kopf.Index[Key, str],
    ) -> None:
        """Start the SLO loop, the rollout scheduler and the heartbeat, each watched by
        liveness."""
        slo_progress = self.health.progress(
            "SLO loop", "evaluation cycle", within=cycle_stalled_after(self.interval_seconds)
        )
        self.health.checks.append(self.rollout_scheduler.stalled)
        self.tasks = [
            asyncio.create_task(
                run_slo_loop(
                    self.slo_loop,
                    slo_index,
                    maintenance_index,
                    interval=self.interval_seconds,
                    metrics=self.metrics,
                    prometheus=self.prometheus,
                    progress=slo_progress,
                )
            ),
            asyncio.create_task(self.rollout_scheduler.run(rollout_targets)),
            asyncio.create_task(heartbeat(self.health)),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def runtime(memo: Any) -> Runtime:
    """The operator's runtime from a handler's ``memo``."""
    found = memo.get(MEMO_KEY)
    if not isinstance(found, Runtime):
        raise TypeError(f"kopf's memo holds no slokeeper Runtime under {MEMO_KEY!r}")
    return found
