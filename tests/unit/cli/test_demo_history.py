"""The demo's made-up month: a daily shape, the incidents where the plan puts them, and counters
that only grow, as Prometheus expects of a scraped service."""

from __future__ import annotations

import io
import itertools
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slokeeper.cli.demo_backfill import backfilled_rules, history_days
from slokeeper.cli.demo_history import (
    HistoryPlan,
    daily_shape,
    demo_plan,
    moments,
    totals_between,
    write_openmetrics,
)
from slokeeper.cli.rules import load_objectives
from slokeeper.simulator.profiles import HEALTHY
from slokeeper.slo.rules import recording_rules

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"
END = datetime(2026, 12, 1, 10, 7, 30, tzinfo=UTC)
SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\d+)$")


def small_plan(days: int = 15) -> HistoryPlan:
    """Two deploys, both incidents, a fine and a coarse part, in a few hundred thousand lines."""
    plan = demo_plan(END, days)
    return HistoryPlan(
        plan.end, plan.episodes, days=days, pods=2, fine_days=10, deploy_every_days=6
    )


def test_traffic_peaks_in_the_afternoon_and_a_week_averages_the_mean() -> None:
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert daily_shape(monday.replace(hour=14)) > 1.5
    assert daily_shape(monday.replace(hour=2)) < 0.6
    saturday = monday + timedelta(days=5)
    assert daily_shape(saturday.replace(hour=14)) < daily_shape(monday.replace(hour=14))
    week = [daily_shape(monday + timedelta(minutes=10 * i)) for i in range(7 * 24 * 6)]
    assert abs(sum(week) / len(week) - 1) < 0.01


def test_the_steps_cover_the_history_without_gaps_finer_near_the_end() -> None:
    plan = small_plan()
    steps = list(plan.steps())
    assert steps[0][0] == plan.start
    for (at, seconds), (following, _) in itertools.pairwise(steps):
        assert at + timedelta(seconds=seconds) == following
    last, seconds = steps[-1]
    assert last + timedelta(seconds=seconds) >= plan.end
    fine_from = plan.end - timedelta(days=plan.fine_days)
    assert {s for at, s in steps if at >= fine_from} == {plan.step_seconds}
    assert {s for at, s in steps if at < fine_from - timedelta(minutes=5)} == {
        plan.coarse_step_seconds
    }


def test_the_incidents_burn_the_budget_where_the_plan_puts_them() -> None:
    plan = small_plan()
    fast, slow = plan.episodes
    assert fast.end - fast.start == timedelta(minutes=90)
    in_fast = totals_between(plan, fast.start, fast.end)
    assert 0.06 < in_fast.errors / in_fast.requests < 0.10
    assert in_fast.slow / in_fast.requests > 0.05, "the bad deploy is slow too"
    in_slow = totals_between(plan, slow.start, slow.end)
    assert 0.002 < in_slow.errors / in_slow.requests < 0.004
    quiet = totals_between(plan, plan.start, fast.start)
    assert abs(quiet.errors / quiet.requests - HEALTHY.error_ratio) < 0.3 * HEALTHY.error_ratio
    # Over a 28-day window at 99.9 %, the fast burn alone spends a fifth of the budget or more:
    # a drop anyone sees in the report.
    month = plan.requests_per_second * 28 * 86400
    assert in_fast.errors / (0.001 * month) > 0.2
    # The daily shape: the fast burn, at the afternoon peak, sees more than average traffic.
    assert in_fast.requests / (90 * 60) > plan.requests_per_second


def test_the_same_plan_gives_the_same_history() -> None:
    plan = small_plan(3)
    first = [m for _, m in moments(plan)]
    assert first == [m for _, m in moments(plan)]


def parsed(plan: HistoryPlan) -> tuple[str, dict[tuple[str, str], list[tuple[int, float]]]]:
    out = io.StringIO()
    written = write_openmetrics(plan, out)
    text = out.getvalue()
    series: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, line
        name, labels, value, when = match.groups()
        series[name, labels].append((int(when), float(value)))
    assert sum(len(points) for points in series.values()) == written
    return text, series


def test_counters_only_grow_and_each_deploy_starts_new_pods() -> None:
    plan = small_plan()
    text, series = parsed(plan)
    assert text.endswith("# EOF\n")
    # One family after the other, as OpenMetrics requires.
    families = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert families == ["http_requests", "http_request_duration_seconds"]
    first_histogram = text.index("http_request_duration_seconds_bucket")
    assert "http_requests_total" not in text[first_histogram:]
    for (name, labels), points in series.items():
        times = [when for when, _ in points]
        values = [value for _, value in points]
        assert times == sorted(set(times)), f"{name}{{{labels}}}: time goes back"
        assert values == sorted(values), f"{name}{{{labels}}}: a counter went down"
    pods = {re.search(r'pod="([^"]+)"', labels).group(1) for _, labels in series}  # type: ignore[union-attr]
    deploys = 3  # 15 days, a deploy every 6
    assert len(pods) == plan.pods * deploys
    assert all(re.fullmatch(r"checkout-[a-z0-9]{10}-[a-z0-9]{5}", pod) for pod in pods), pods
    assert not any(pod.startswith("checkout-canary-") for pod in pods)


def test_the_counters_add_up_to_the_planned_traffic() -> None:
    plan = small_plan(4)
    _, series = parsed(plan)
    # One deploy generation in 4 days: each pod's last value is its share of everything served.
    served = sum(
        points[-1][1] for (name, _), points in series.items() if name == "http_requests_total"
    )
    planned = totals_between(plan, plan.start, plan.end)
    # Each series is written in whole requests: at most one lost per series.
    assert abs(served - planned.requests) <= len(series)
    failed = sum(
        points[-1][1]
        for (name, labels), points in series.items()
        if name == "http_requests_total" and 'code="500"' in labels
    )
    assert abs(failed - planned.errors) <= len(series)


def test_the_backfill_records_the_hourly_rules_over_all_history_and_the_rest_where_read() -> None:
    objectives = load_objectives(sorted(SAMPLES.glob("slo-*.yaml")))
    assert history_days(objectives, END) == 56, "two 28-day windows"
    hourly, longer = backfilled_rules(objectives)
    windows_of = {
        (group["name"], rule["record"], rule["labels"].get("window"))
        for part in (hourly, longer)
        for group in part
        for rule in group["rules"]
    }
    assert not any("orders-etl" in name for name, _, _ in windows_of), "freshness: no history"
    budget_series = {
        (group["name"], rule["record"])
        for group in hourly
        for rule in group["rules"]
        if rule["labels"].get("window") == "1h"
    }
    for slo in ("checkout-availability", "checkout-latency", "checkout-monthly"):
        for record in ("slokeeper_slo_error_ratio", "slokeeper_slo_requests_per_second"):
            assert (f"slokeeper-default-{slo}", record) in budget_series
    every = {
        (g["name"], r["record"], r["labels"].get("window")) for g in hourly for r in g["rules"]
    }
    assert {w for _, _, w in every} <= {"4m40s", "28m", "56m", "1h"}
    later = {r["labels"]["window"] for g in longer for r in g["rules"]}
    assert later == {"1h52m", "5h36m", "22h24m", "2d19h12m"}
    # Every recording rule of the SLOs is backfilled, in one part or the other.
    written = sum(len(recording_rules(o)) for o in objectives if "orders" not in o.service)
    assert len(windows_of) == written
