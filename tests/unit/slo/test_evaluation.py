"""What an SLO's status says, and which Events it raises, for what Prometheus answered."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.evaluation import Health, Observation, evaluate, events_between, significant
from slokeeper.slo.objective import (
    AlertKind,
    Objective,
    PolicyAction,
    PolicyThreshold,
    RatioIndicator,
    RollingWindow,
)
from slokeeper.slo.windows import DAY, HOUR, MINUTE

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
OBJECTIVE = Objective(
    "shop",
    "checkout-availability",
    "checkout",
    99.9,
    RollingWindow(30 * DAY),
    RatioIndicator(total="t[{{.window}}]", errors="e[{{.window}}]"),
    budget_policy=(
        PolicyThreshold(25, PolicyAction.REQUIRE_APPROVAL),
        PolicyThreshold(0, PolicyAction.FREEZE),
    ),
)
SPAN = measurement_span(OBJECTIVE.window, NOW)
WINDOWS = (5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY)


def _observe(window_ratio: float, span_ratio: float | None) -> Observation:
    return Observation({w: window_ratio for w in WINDOWS}, span_ratio, 1000.0)


def test_a_healthy_service_shows_its_sli_budget_and_no_alerts() -> None:
    figures = evaluate(OBJECTIVE, _observe(0.0002, 0.0003), SPAN)
    assert figures.health is Health.OK
    assert figures.sli_ratio == 0.9997
    assert figures.error_budget_remaining_ratio == 0.7
    assert dict(figures.burn_rates)["1h"] == 0.2
    assert figures.firing == ()
    assert figures.policy_action is PolicyAction.NONE


def test_an_error_burst_fires_the_page_rows_it_crosses() -> None:
    figures = evaluate(OBJECTIVE, _observe(0.02, 0.0009), SPAN)
    assert [(r.kind, r.long_window) for r in figures.firing] == [
        (AlertKind.PAGE, "1h"),
        (AlertKind.PAGE, "6h"),
        (AlertKind.TICKET, "1d"),
        (AlertKind.TICKET, "3d"),
    ]
    assert figures.policy_action is PolicyAction.REQUIRE_APPROVAL


def test_an_overspent_budget_is_negative_and_freezes_changes() -> None:
    figures = evaluate(OBJECTIVE, _observe(0.001, 0.0015), SPAN)
    assert figures.error_budget_remaining_ratio == -0.5
    assert figures.budget_exhausted
    assert figures.policy_action is PolicyAction.FREEZE


def test_no_events_over_the_window_is_no_data_not_a_perfect_sli() -> None:
    figures = evaluate(OBJECTIVE, _observe(0.0, None), SPAN)
    assert figures.health is Health.NO_DATA
    assert figures.sli_ratio is None
    assert figures.policy_action is None


def test_an_upstream_problem_is_reported_with_its_message() -> None:
    problem = Observation(problem=Health.QUERY_INVALID, problem_message="parse error at char 5")
    figures = evaluate(OBJECTIVE, problem, SPAN)
    assert (figures.health, figures.message) == (Health.QUERY_INVALID, "parse error at char 5")
    (event,) = events_between(None, figures)
    assert (event.reason, event.warning) == ("QueryInvalid", True)


def test_a_new_slo_waiting_for_its_rules_says_so_without_a_warning() -> None:
    """5,000 SLOs applied at once are each RulesPending for a while: expected, so no Event; a
    NoData after it (rules evaluated, still no events) is news."""
    pending = Observation(problem=Health.RULES_PENDING, problem_message="not evaluated yet")
    figures = evaluate(OBJECTIVE, pending, SPAN)
    assert (figures.health.value, figures.message) == ("RulesPending", "not evaluated yet")
    assert events_between(None, figures) == []
    no_data = evaluate(OBJECTIVE, _observe(0.0, None), SPAN)
    assert [(e.reason, e.warning) for e in events_between(figures, no_data)] == [("NoData", True)]


def test_events_follow_changes_only() -> None:
    quiet = evaluate(OBJECTIVE, _observe(0.0002, 0.0003), SPAN)
    burning = evaluate(OBJECTIVE, _observe(0.02, 0.0009), SPAN)
    assert events_between(None, quiet) == []

    assert events_between(quiet, quiet) == []
    reasons = [e.reason for e in events_between(quiet, burning)]
    assert reasons == ["BudgetPolicyRequireApproval", "BurnRatePageFiring", "BurnRateTicketFiring"]
    page = events_between(quiet, burning)[1]
    assert "Burn rate 20.0x over 1h" in page.message
    assert [e.reason for e in events_between(burning, quiet)] == [
        "BudgetPolicyNone",
        "BurnRatePageResolved",
        "BurnRateTicketResolved",
    ]


@given(st.floats(min_value=0, max_value=0.0011))
def test_small_jitter_in_traffic_does_not_change_what_is_shown(ratio: float) -> None:
    first = evaluate(OBJECTIVE, _observe(ratio, ratio), SPAN)
    again = evaluate(OBJECTIVE, _observe(ratio * (1 + 1e-9), ratio * (1 + 1e-9)), SPAN)
    assert first.sli_ratio is not None
    assert again.sli_ratio is not None
    assert abs(first.sli_ratio - again.sli_ratio) <= 1e-5


def test_significant_figures() -> None:
    assert significant(14.43) == 14
    assert significant(0.01234) == 0.012
    assert significant(0) == 0


def test_the_budget_runs_out_at_the_shortest_and_longest_windows_burn() -> None:
    # Half the budget spent; burning at 2x over every window: the rest lasts 7.5 of 30 days.
    figures = evaluate(OBJECTIVE, _observe(0.002, 0.0005), SPAN)
    assert [f.window for f in figures.exhaustion] == ["1h", "3d"]
    for forecast in figures.exhaustion:
        assert forecast.burn_rate == 2.0
        assert forecast.seconds_left == 650_000  # 7.5 days = 648000 s, two figures
        assert forecast.before_window_ends
