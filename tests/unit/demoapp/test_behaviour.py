"""A version's environment sets its behaviour, with the simulator's profiles and buckets."""

from __future__ import annotations

import pytest

from slokeeper.demoapp.behaviour import (
    BUCKETS,
    HEALTHY_LATENCY,
    ConfigurationError,
    behaviour_from,
    latency_at,
)
from slokeeper.simulator import profiles


def test_the_histogram_has_the_simulators_buckets_and_latency_curve() -> None:
    assert BUCKETS == profiles.BUCKETS
    assert HEALTHY_LATENCY == profiles.HEALTHY_LATENCY


@pytest.mark.parametrize(
    ("profile", "error_ratio", "latency_factor"),
    [
        (profiles.HEALTHY.name, profiles.HEALTHY.error_ratio, 1.0),
        (profiles.BAD.name, profiles.BAD.error_ratio, 1.0),
        (profiles.SLOW.name, profiles.SLOW.error_ratio, profiles.SLOW.latency_factor),
        (profiles.PERFECT.name, 0.0, 1.0),
    ],
)
def test_a_profile_means_what_it_means_in_the_simulator(
    profile: str, error_ratio: float, latency_factor: float
) -> None:
    behaviour = behaviour_from({"PROFILE": profile, "VERSION": "1.2"})
    assert (behaviour.error_ratio, behaviour.latency_factor) == (error_ratio, latency_factor)
    assert behaviour.version == "1.2"
    assert not behaviour.crash


def test_no_environment_is_a_healthy_version() -> None:
    behaviour = behaviour_from({})
    assert (behaviour.profile, behaviour.version) == ("healthy", "unversioned")


def test_error_ratio_and_latency_factor_override_the_profile() -> None:
    behaviour = behaviour_from({"PROFILE": "slow", "ERROR_RATIO": "0.05", "LATENCY_FACTOR": "2"})
    assert (behaviour.error_ratio, behaviour.latency_factor) == (0.05, 2.0)


def test_the_crash_profile_asks_the_server_to_exit() -> None:
    assert behaviour_from({"PROFILE": "crash"}).crash


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"PROFILE": "flaky"}, "PROFILE='flaky'"),
        ({"ERROR_RATIO": "a fifth"}, "ERROR_RATIO='a fifth' is not a number"),
        ({"ERROR_RATIO": "1.5"}, "between 0 and 1"),
        ({"LATENCY_FACTOR": "0"}, "positive"),
    ],
)
def test_a_setting_it_cannot_use_is_named(environment: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        behaviour_from(environment)


@pytest.mark.parametrize("ratio", [0.0, 0.0002, 0.05, 0.2, 0.5, 1.0])
def test_after_n_requests_exactly_floor_n_times_the_ratio_failed(ratio: float) -> None:
    behaviour = behaviour_from({"ERROR_RATIO": str(ratio)})
    failed = 0
    for number in range(10_000):
        failed += behaviour.fails(number)
        assert failed == int((number + 1) * ratio + 1e-9)


def test_errors_are_spread_not_bunched() -> None:
    behaviour = behaviour_from({"PROFILE": "bad"})
    assert [behaviour.fails(number) for number in range(10)] == [False] * 4 + [True] + [
        False
    ] * 4 + [True]


def test_latencies_follow_the_healthy_curve_and_a_slow_version_scales_it() -> None:
    healthy = behaviour_from({})
    slow = behaviour_from({"PROFILE": "slow"})
    latencies = sorted(healthy.latency(number) for number in range(2000))
    assert latencies[1000] == pytest.approx(0.05, abs=0.002)  # p50
    assert latencies[1800] == pytest.approx(0.1, abs=0.003)  # p90
    assert latencies[1980] == pytest.approx(0.25, abs=0.02)  # p99
    assert max(latencies) <= 1.0
    assert [slow.latency(n) for n in range(50)] == pytest.approx(
        [5 * healthy.latency(n) for n in range(50)]
    )


def test_the_latency_curve_is_linear_between_its_points() -> None:
    assert latency_at(0.0) == 0.0
    assert latency_at(0.5) == pytest.approx(0.05)
    assert latency_at(0.7) == pytest.approx(0.075)
    assert latency_at(0.9999) <= 1.0
