"""An analysis outcome for every kind of evidence, and none that promotes on missing data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slokeeper.rollout.analysis import CheckEvidence, Outcome, SLOEvidence, analyse


def _slo(
    canary_errors: float | None, canary_requests: float | None, **stable: float
) -> SLOEvidence:
    return SLOEvidence(
        "checkout-availability",
        allowed_error_ratio=0.001,
        max_burn_rate=2.0,
        canary_errors=canary_errors,
        canary_requests=canary_requests,
        stable_errors=stable.get("errors"),
        stable_requests=stable.get("requests"),
    )


def test_zero_errors_on_enough_traffic_is_a_pass() -> None:
    verdict = analyse((_slo(0, 500, errors=1, requests=5000),), (), min_request_count=100)
    assert verdict.outcome is Outcome.PASS
    assert [m.passed for m in verdict.measurements] == [True, True]


def test_a_bad_canary_fails_with_its_figures() -> None:
    verdict = analyse((_slo(100, 500, errors=1, requests=5000),), (), min_request_count=100)
    assert verdict.outcome is Outcome.FAIL
    assert "canary burn rate = 200 (limit 2)" in verdict.message


def test_too_few_requests_is_no_verdict() -> None:
    verdict = analyse((_slo(0, 40),), (), min_request_count=100)
    assert verdict.outcome is Outcome.NOT_ENOUGH_TRAFFIC
    assert "served 40 requests; 100 are needed" in verdict.message


def test_no_canary_series_at_all_is_not_enough_traffic_either() -> None:
    assert analyse((_slo(None, None),), (), 100).outcome is Outcome.NOT_ENOUGH_TRAFFIC


def test_upstream_problems_keep_their_own_reason_and_message() -> None:
    for problem in (Outcome.QUERY_INVALID, Outcome.PROMETHEUS_UNREACHABLE):
        verdict = analyse(
            (_slo(0, 500),), (), 100, problem=problem, problem_message="upstream says no"
        )
        assert (verdict.outcome, verdict.message) == (problem, "upstream says no")


def test_extra_checks_fail_outside_their_bounds_and_wait_without_data() -> None:
    slow = CheckEvidence("p99-latency", 0.9, maximum=0.5)
    assert analyse((_slo(0, 500),), (slow,), 100).outcome is Outcome.FAIL
    silent = CheckEvidence("p99-latency", None, maximum=0.5)
    assert analyse((_slo(0, 500),), (silent,), 100).outcome is Outcome.NOT_ENOUGH_TRAFFIC


@given(
    st.one_of(st.none(), st.floats(0, 1000)),
    st.one_of(st.none(), st.floats(0, 5000)),
    st.one_of(st.none(), st.floats(-10, 10)),
    st.sampled_from([None, Outcome.QUERY_INVALID, Outcome.PROMETHEUS_UNREACHABLE]),
)
def test_nothing_missing_or_failed_ever_passes(
    errors: float | None, requests: float | None, check: float | None, problem: Outcome | None
) -> None:
    if errors is not None and requests is not None:
        errors = min(errors, requests)
    verdict = analyse(
        (_slo(errors, requests, errors=5, requests=5000),),
        (CheckEvidence("bounded", check, minimum=-1, maximum=1),),
        min_request_count=100,
        problem=problem,
    )
    if verdict.outcome is Outcome.PASS:
        assert problem is None
        assert requests is not None
        assert requests >= 100
        assert check is not None
        assert -1 <= check <= 1
        assert all(m.passed for m in verdict.measurements)
