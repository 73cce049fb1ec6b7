"""Each image behaves as its tag says, and the counters follow it exactly."""

from __future__ import annotations

import pytest

from slokeeper.simulator.counters import PodTraffic, exposition
from slokeeper.simulator.profiles import BAD, HEALTHY, IDLE, PERFECT, SLOW, profile_for


@pytest.mark.parametrize(
    ("image", "profile"),
    [
        ("shop/checkout:1.1", HEALTHY),
        ("shop/checkout:1.2-bad", BAD),
        ("registry:5000/shop/checkout:1.3-slow", SLOW),
        ("registry:5000/shop/checkout", HEALTHY),
        ("shop/checkout:1.1-perfect", PERFECT),
        ("shop/checkout:1.2-idle", IDLE),
    ],
)
def test_the_image_tag_picks_the_profile(image: str, profile: object) -> None:
    assert profile_for(image) is profile


def test_a_slow_version_is_five_times_slower_at_every_quantile() -> None:
    assert HEALTHY.share_at_or_below(0.25) == pytest.approx(0.99)
    assert SLOW.share_at_or_below(1.25) == pytest.approx(0.99)
    assert SLOW.share_at_or_below(0.3) < 0.8


def test_counters_grow_with_requests_and_errors_follow_the_profile() -> None:
    pod = PodTraffic("shop", "checkout-canary-1", BAD)
    pod.advance(1000)
    page = exposition([pod])
    assert 'http_requests_total{namespace="shop",pod="checkout-canary-1",code="500"} 200' in page
    assert 'http_requests_total{namespace="shop",pod="checkout-canary-1",code="200"} 800' in page
    assert (
        'http_request_duration_seconds_count{namespace="shop",pod="checkout-canary-1"} 1000' in page
    )
    assert page.index("# TYPE http_requests_total") < page.index("# TYPE http_request_duration")


def test_an_idle_version_exports_its_series_but_serves_nothing() -> None:
    pod = PodTraffic("shop", "checkout-canary-1", IDLE)
    pod.advance(1000)
    page = exposition([pod])
    assert 'http_requests_total{namespace="shop",pod="checkout-canary-1",code="200"} 0' in page
