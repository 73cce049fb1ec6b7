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
cost of a one-minute interval. The hourly rules (the budget sums them over a whole window before
each point of a report) run over the whole history; the longer alert windows, costly to evaluate,
only over the report's range; both promtool runs go side by side. Blocks span up to 486 h (a
Prometheus compaction range), so promtool makes a handful of blocks, not one per two hours.
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
from slokeeper.slo.durations import duration_seconds
from slokeeper.slo.objective import FreshnessIndicator, Objective
from slokeeper.slo.rules import BUDGET_WINDOW_SECONDS, group_name, recording_rules

RULE_EVALUATION_INTERVAL = "5m"
# promtool rounds this down to the largest compaction range it fits: 486 h.
MAX_BLOCK_DURATION = "744h"
COMMON = (f"--max-block-duration={MAX_BLOCK_DURATION}", "--quiet")
Rule = dict[str, Any]


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


def longest_window(objectives: list[Objective], end: datetime) -> timedelta:
    return max(
        (end - measurement_span(objective.window, end).start for objective in objectives),
        default=timedelta(days=15),
    )


def history_days(objectives: list[Objective], end: datetime) -> int:
    """Two of the longest window: each point of a report, which starts a window back, then has a
    whole window of history behind it, as an SLO that has run for months has (with less, the
    budget would seem to recover after an incident as more healthy traffic fills the window)."""
    return max(30, math.ceil(2 * longest_window(objectives, end) / timedelta(days=1)))


def backfilled_rules(objectives: list[Objective]) -> tuple[list[Rule], list[Rule]]:
    """The recording rules of the SLOs the history feeds, in two rule-file groups lists: the
    hourly ones (and shorter), which the budget sums over the whole history, and the longer alert
    windows, needed only over the report's window. Freshness SLOs read a series of their own
    recording (not in the history), so they start from the demo's start."""
    hourly: list[Rule] = []
    longer: list[Rule] = []
    for objective in objectives:
        if isinstance(objective.indicator, FreshnessIndicator):
            continue
        rules = recording_rules(objective)
        short = [r for r in rules if _window(r) <= BUDGET_WINDOW_SECONDS]
        long = [r for r in rules if _window(r) > BUDGET_WINDOW_SECONDS]
        for part, chosen in ((hourly, short), (longer, long)):
            if chosen:
                part.append({"name": group_name(objective), "rules": chosen})
    return hourly, longer


def _window(rule: Rule) -> float:
    window = rule.get("labels", {}).get("window")
    return duration_seconds(window) if window else 0.0


def _promtool(promtool: Path, *runs: tuple[str, ...]) -> None:
    """``promtool tsdb create-blocks-from`` with each argument list, side by side."""
    started = [
        subprocess.Popen(
            [str(promtool), "tsdb", "create-blocks-from", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in runs
    ]
    try:
        for args, process in zip(runs, started, strict=True):
            _, errors = process.communicate(timeout=300)
            if process.returncode != 0:
                raise RuntimeError(f"promtool {args[0]} backfill failed:\n{errors[-3000:]}")
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()


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
    raw = history / "month.om"
    with raw.open("w") as out:
        samples = write_openmetrics(plan, out)
    _promtool(promtool, ("openmetrics", *COMMON, str(raw), str(history / "raw")))
    raw.unlink()  # a quarter of a gigabyte of text, no longer needed
    # The history plus a margin: nothing of it is deleted while the demo runs.
    prometheus.load_blocks(history / "raw", retention=f"{plan.days + 5}d")
    hourly, longer = backfilled_rules(objectives)
    # The longer windows from a window (and an hour) before the end: the report's range.
    longer_from = plan.end - longest_window(objectives, plan.end) - timedelta(hours=1)
    runs = []
    recorded_blocks = history / "recorded"
    for name, groups, start in (("hourly", hourly, plan.start), ("longer", longer, longer_from)):
        if groups:
            rules = history / f"{name}-rules.yml"
            rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
            runs.append(_rules_run(prometheus.url, start, plan.end, rules, recorded_blocks / name))
    if not runs:
        return Backfill(plan, samples, 0, time.monotonic() - began)
    _promtool(promtool, *runs)
    for part in list(recorded_blocks.iterdir()):  # one restart for both parts
        for block in part.iterdir():
            block.rename(recorded_blocks / block.name)
        part.rmdir()
    prometheus.load_blocks(recorded_blocks, retention=prometheus.retention)
    recorded = sum(len(group["rules"]) for group in hourly + longer)
    return Backfill(plan, samples, recorded, time.monotonic() - began)


def _rules_run(
    url: str, start: datetime, end: datetime, rules: Path, output: Path
) -> tuple[str, ...]:
    return (
        "rules", *COMMON, f"--url={url}", f"--start={start.timestamp():.0f}",
        f"--end={end.timestamp():.0f}", f"--eval-interval={RULE_EVALUATION_INTERVAL}",
        f"--output-dir={output}", str(rules),
    )  # fmt: skip
