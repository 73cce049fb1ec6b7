"""Puts a month of made-up checkout history (``demo_history``) into the demo's Prometheus, so its
SLO statuses and budget reports cover a month, not the demo's few minutes.

Two promtool steps, because Prometheus evaluates recording rules only as time passes, never for the
past, and the operator reads an SLO's budget from its recorded hourly series:

1. ``promtool tsdb create-blocks-from openmetrics``: the raw counters become TSDB blocks, loaded
   into Prometheus (a restart with a retention that keeps them).
2. ``promtool tsdb create-blocks-from rules``: Prometheus itself evaluates the SLOs' recording
   rules (the very rules the operator will write, from the same manifests) over the month, against
   those raw blocks; the recorded series become blocks too. Every figure the operator and
   ``slokeeper report`` read in the past is then what Prometheus would have recorded, and the
   live rules carry the same series on from the moment the operator writes them.

Rules are evaluated every five minutes in the past (the live ones every few seconds): exactly one
sample in every five-minute look-back, so every read in the past finds a value, at a fifth of the
cost of a one-minute interval. Blocks span up to 486 h (a Prometheus compaction range), so
promtool makes a handful of blocks, not one per two hours.
"""

from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from slokeeper.cli.demo_history import HistoryPlan, demo_plan, write_openmetrics
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.objective import FreshnessIndicator, Objective
from slokeeper.slo.rules import group_name, recording_rules

RULE_EVALUATION_INTERVAL = "5m"
# promtool rounds this down to the largest compaction range it fits: 486 h.
MAX_BLOCK_DURATION = "744h"


@dataclass(frozen=True)
class Backfill:
    plan: HistoryPlan
    samples: int
    recorded_rules: int
    seconds: float

    def summary(self) -> str:
        incidents = "".join(
            f"\n  {e.start:%a %d %b %H:%M}-{e.end:%H:%M} UTC: {e.what}" for e in self.plan.episodes
        )
        return (
            f"Backfilled {self.plan.days} days of checkout traffic up to "
            f"{self.plan.end:%Y-%m-%d %H:%M:%S} UTC into Prometheus ({self.samples / 1e6:.1f} M "
            f"samples; {self.recorded_rules} recording rules evaluated over them) in "
            f"{self.seconds:.1f}s. Incidents:{incidents}"
        )


def history_days(objectives: list[Objective], end: datetime) -> int:
    """Two of the longest window: each point of a report, which starts a window back, then has a
    whole window of history behind it, as an SLO that has run for months has (with less, the
    budget would seem to recover after an incident as more healthy traffic fills the window)."""
    longest = max(
        (end - measurement_span(objective.window, end).start for objective in objectives),
        default=timedelta(days=15),
    )
    return max(30, math.ceil(2 * longest / timedelta(days=1)))


def backfilled_rules(objectives: list[Objective]) -> list[dict[str, Any]]:
    """The rule groups with the recording rules of the SLOs the history feeds. Freshness SLOs read a
    series of their own recording (not in the history), so they start from the demo's start."""
    groups = [
        {"name": group_name(objective), "rules": recording_rules(objective)}
        for objective in objectives
        if not isinstance(objective.indicator, FreshnessIndicator)
    ]
    return [group for group in groups if group["rules"]]


def _promtool(promtool: Path, *args: str) -> None:
    done = subprocess.run(
        [str(promtool), "tsdb", "create-blocks-from", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"promtool {args[0]} backfill failed:\n{done.stderr[-3000:]}")


def backfill_month(
    prometheus: PrometheusServer,
    promtool: Path,
    objectives: list[Objective],
    workdir: Path,
    end: datetime,
    *,
    namespace: str = "default",
) -> Backfill:
    """Generate the history ending at ``end`` for the checkout pods of ``namespace``; load it and
    its recorded series into Prometheus."""
    began = time.monotonic()
    plan = demo_plan(end, history_days(objectives, end), namespace)
    history = workdir / "history"
    history.mkdir(parents=True, exist_ok=True)
    raw, rules = history / "month.om", history / "rules.yml"
    with raw.open("w") as out:
        samples = write_openmetrics(plan, out)
    common = (f"--max-block-duration={MAX_BLOCK_DURATION}", "--quiet")
    _promtool(promtool, "openmetrics", *common, str(raw), str(history / "raw"))
    raw.unlink()  # a quarter of a gigabyte of text, no longer needed
    # The month plus a margin: nothing of it is deleted while the demo runs.
    prometheus.load_blocks(history / "raw", retention=f"{plan.days + 5}d")
    groups = backfilled_rules(objectives)
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    _promtool(
        promtool, "rules", *common, f"--url={prometheus.url}",
        f"--start={plan.start.timestamp():.0f}", f"--end={plan.end.timestamp():.0f}",
        f"--eval-interval={RULE_EVALUATION_INTERVAL}",
        f"--output-dir={history / 'recorded'}", str(rules),
    )  # fmt: skip
    prometheus.load_blocks(history / "recorded", retention=prometheus.retention)
    recorded = sum(len(group["rules"]) for group in groups)
    return Backfill(plan, samples, recorded, time.monotonic() - began)
