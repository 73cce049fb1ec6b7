"""A month of checkout traffic for the demo's Prometheus, written as OpenMetrics for
``promtool tsdb create-blocks-from openmetrics``.

The demo runs for minutes; an SLO's budget is measured over weeks. So that the demo's budget report
looks like what an SRE sees in production, the month before the demo starts is made up: the same
series the traffic simulator serves (``http_requests_total{namespace,pod,code}`` and the
``http_request_duration_seconds`` histogram, per pod, with the simulator's healthy error ratio and
latency), with a daily and weekly shape, a deploy a week (new pods, counters from zero), and two
bad stretches: a fast burn (a bad deploy failing a share of requests for 90 minutes, at the
afternoon peak) and a slow burn (a flaky dependency, 18 hours at three times the budget's rate).

Everything is a function of the plan (no clock, a seeded generator), so a test can compute from
the same plan what the budget must be (``totals_between``).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from slokeeper.simulator.profiles import BUCKETS, HEALTHY, Profile

DAY = 86400.0


@dataclass(frozen=True)
class Episode:
    """A stretch of the month when checkout misbehaved: every request in it fails with
    ``error_ratio`` and is ``latency_factor`` times slower than healthy."""

    what: str
    start: datetime
    end: datetime
    error_ratio: float
    latency_factor: float = 1.0

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class HistoryPlan:
    """The history to make up: ``days`` ending at ``end``, one sample per pod and series every
    ``step_seconds`` over the last ``fine_days`` and every ``coarse_step_seconds`` before (that
    older part is read only through windows of an hour or more, and costs the backfill a fifth),
    ``requests_per_second`` on average over a week (all pods together)."""

    end: datetime
    episodes: tuple[Episode, ...]
    days: int = 30
    step_seconds: int = 60
    fine_days: int = 31
    coarse_step_seconds: int = 300
    pods: int = 4
    requests_per_second: float = 40.0
    namespace: str = "default"
    deployment: str = "checkout"
    seed: int = 19
    deploy_every_days: int = 7

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def steps(self) -> Iterator[tuple[datetime, int]]:
        """Each step's start and length, oldest first."""
        fine_from = self.end - timedelta(days=min(self.fine_days, self.days))
        at = self.start
        while at < self.end:
            seconds = self.step_seconds if at >= fine_from else self.coarse_step_seconds
            yield at, seconds
            at += timedelta(seconds=seconds)


def demo_plan(end: datetime, days: int = 30, namespace: str = "default") -> HistoryPlan:
    """The demo's ``days``: a fast burn nine days before ``end`` at 14:00 UTC (the daily peak), a
    slow burn four days before from 02:00 to 20:00 UTC. Both are within a 28-day window."""
    day = end.replace(hour=0, minute=0, second=0, microsecond=0)
    fast = day - timedelta(days=9) + timedelta(hours=14)
    slow = day - timedelta(days=4) + timedelta(hours=2)
    return HistoryPlan(
        end=end.replace(microsecond=0),
        days=days,
        namespace=namespace,
        episodes=(
            Episode("a bad deploy fails 8 % of requests", fast, fast + timedelta(minutes=90),
                    error_ratio=0.08, latency_factor=2.0),
            Episode("a flaky dependency fails 0.3 % of requests", slow, slow + timedelta(hours=18),
                    error_ratio=0.003),
        ),
    )  # fmt: skip


def daily_shape(at: datetime) -> float:
    """Traffic relative to the weekly mean: a peak at 14:00 UTC, a trough at 02:00, weekends at
    three quarters of weekdays (normalised so a whole week averages 1)."""
    hour = at.hour + at.minute / 60 + at.second / 3600
    weekday = 0.75 if at.weekday() >= 5 else 1.0
    return (1 + 0.55 * math.cos(2 * math.pi * (hour - 14) / 24)) * weekday / (6.5 / 7)


@dataclass(frozen=True)
class Moment:
    """What the whole service did in one step: requests, failed requests, and requests within
    each histogram bucket (cumulative, as the histogram counts them)."""

    seconds: int
    requests: float
    errors: float
    within: tuple[float, ...]


def _profile_at(plan: HistoryPlan, at: datetime) -> Profile:
    for episode in plan.episodes:
        if episode.covers(at):
            return Profile(episode.what, episode.error_ratio, episode.latency_factor)
    return HEALTHY


def moments(plan: HistoryPlan) -> Iterator[tuple[datetime, Moment]]:
    """The service's traffic in each step, start to end: the model every other figure comes from.
    Noise (a few per cent on traffic, more on errors) is seeded, so a plan always gives the same
    month."""
    noise = random.Random(plan.seed)  # noqa: S311 - made-up traffic, not a secret
    for at, seconds in plan.steps():
        profile = _profile_at(plan, at)
        requests = plan.requests_per_second * seconds * daily_shape(at) * noise.uniform(0.95, 1.05)
        errors = requests * profile.error_ratio * noise.uniform(0.5, 1.5)
        within = tuple(requests * profile.share_at_or_below(b) for b in BUCKETS)
        yield at, Moment(seconds, requests, errors, within)


@dataclass(frozen=True)
class Totals:
    """Requests, failed ones, and ones slower than a latency threshold, between two times."""

    requests: float = 0.0
    errors: float = 0.0
    slow: float = 0.0


class Ledger:
    """Running totals of a plan's traffic, step by step, so any stretch's totals are two look-ups
    (a test asks for hundreds of windows)."""

    def __init__(self, plan: HistoryPlan, threshold: float = 0.3) -> None:
        bucket = BUCKETS.index(threshold)
        self.times: list[float] = []
        self.running: list[Totals] = [Totals()]
        for at, moment in moments(plan):
            last = self.running[-1]
            self.times.append(at.timestamp())
            self.running.append(
                Totals(
                    last.requests + moment.requests,
                    last.errors + moment.errors,
                    last.slow + moment.requests - moment.within[bucket],
                )
            )

    def between(self, start: datetime, end: datetime) -> Totals:
        """What the plan served in the steps starting in [start, end)."""
        first = bisect.bisect_left(self.times, start.timestamp())
        last = bisect.bisect_left(self.times, end.timestamp())
        low, high = self.running[first], self.running[last]
        return Totals(high.requests - low.requests, high.errors - low.errors, high.slow - low.slow)


def totals_between(
    plan: HistoryPlan, start: datetime, end: datetime, threshold: float = 0.3
) -> Totals:
    """What the plan served in [start, end): the figures the budget must come out at."""
    return Ledger(plan, threshold).between(start, end)


def pod_name(plan: HistoryPlan, generation: int, index: int) -> str:
    """A pod of the ReplicaSet of the ``generation``-th deploy, named as Kubernetes names them."""
    letters = "bcdfghjklmnpqrstvwxz2456789"
    pick = random.Random(f"{plan.seed}/{generation}/{index}")  # noqa: S311 - a name
    template_hash = "".join(pick.choice(letters) for _ in range(10))
    suffix = "".join(pick.choice(letters) for _ in range(5))
    return f"{plan.deployment}-{template_hash}-{suffix}"


@dataclass
class _Pod:
    name: str
    requests: float = 0.0
    errors: float = 0.0
    within: list[float] = field(default_factory=lambda: [0.0] * len(BUCKETS))
    latency_sum: float = 0.0


def _generation(plan: HistoryPlan, at: datetime) -> int:
    return int((at - plan.start).total_seconds() // (plan.deploy_every_days * DAY))


def pod_series(plan: HistoryPlan) -> Iterator[tuple[float, list[_Pod]]]:
    """Every step's cumulative counters of the pods then running (each pod takes an equal share;
    a deploy replaces all pods, whose counters start again from zero)."""
    generation, pods = -1, []
    for at, moment in moments(plan):
        if _generation(plan, at) != generation:
            generation = _generation(plan, at)
            pods = [_Pod(pod_name(plan, generation, i)) for i in range(plan.pods)]
        share = 1 / len(pods)
        for pod in pods:
            pod.requests += moment.requests * share
            pod.errors += moment.errors * share
            for index, within in enumerate(moment.within):
                pod.within[index] += within * share
            # Mean of the healthy distribution is about 70 ms (as the simulator counts it).
            pod.latency_sum += moment.requests * share * 0.07
        # A sample is what a scrape at the end of the step reads.
        yield at.timestamp() + moment.seconds, pods


def write_openmetrics(plan: HistoryPlan, out: TextIO) -> int:
    """The plan as OpenMetrics (one family after the other, as the format requires); returns the
    number of samples written."""
    labels_of = f'namespace="{plan.namespace}",pod="{{}}"'
    written = 0
    out.write("# HELP http_requests Requests served, by status code.\n")
    out.write("# TYPE http_requests counter\n")
    for when, pods in pod_series(plan):
        for pod in pods:
            labels = labels_of.format(pod.name)
            errors = int(pod.errors)
            ok = int(pod.requests) - errors
            out.write(f'http_requests_total{{{labels},code="200"}} {ok} {when:.0f}\n')
            out.write(f'http_requests_total{{{labels},code="500"}} {errors} {when:.0f}\n')
            written += 2
    out.write("# HELP http_request_duration_seconds Request latency.\n")
    out.write("# TYPE http_request_duration_seconds histogram\n")
    for when, pods in pod_series(plan):
        for pod in pods:
            labels = labels_of.format(pod.name)
            lines = [
                f'http_request_duration_seconds_bucket{{{labels},le="{b}"}} {int(w)} {when:.0f}'
                for b, w in zip(BUCKETS, pod.within, strict=True)
            ]
            lines.append(f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} '
                         f"{int(pod.requests)} {when:.0f}")  # fmt: skip
            lines.append(f"http_request_duration_seconds_sum{{{labels}}} "
                         f"{pod.latency_sum:.3f} {when:.0f}")  # fmt: skip
            lines.append(f"http_request_duration_seconds_count{{{labels}}} "
                         f"{int(pod.requests)} {when:.0f}")  # fmt: skip
            out.write("\n".join(lines) + "\n")
            written += len(lines)
    out.write("# EOF\n")
    return written
