"""Every vector selector gets the matcher; nothing else in the expression changes."""

from __future__ import annotations

import pytest

from slokeeper.slo.promql import add_matchers

POD = 'pod=~"checkout-canary-.*"'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))',
            'sum(rate(http_requests_total{pod=~"checkout-canary-.*",job="checkout",code=~"5.."}[5m]))',
        ),
        (
            "sum(rate(http_requests_total[5m]))",
            'sum(rate(http_requests_total{pod=~"checkout-canary-.*"}[5m]))',
        ),
        (
            "sum by (code, pod) (rate(http_requests_total{}[1h:5m]))",
            'sum by (code, pod) (rate(http_requests_total{pod=~"checkout-canary-.*"}[1h:5m]))',
        ),
        (
            "sum(rate(errors_total[5m])) / ignoring (code) sum(rate(requests_total[5m] offset 1m))",
            'sum(rate(errors_total{pod=~"checkout-canary-.*"}[5m])) / ignoring (code) '
            'sum(rate(requests_total{pod=~"checkout-canary-.*"}[5m] offset 1m))',
        ),
        (
            'label_replace(up{job="a{b}"}, "x", "$1", "instance", "(.*)")',
            'label_replace(up{pod=~"checkout-canary-.*",job="a{b}"}, '
            '"x", "$1", "instance", "(.*)")',
        ),
        (
            'histogram_quantile(0.99, sum by (le) (rate(latency_bucket{le!="+Inf"}[5m])))',
            "histogram_quantile(0.99, sum by (le) "
            '(rate(latency_bucket{pod=~"checkout-canary-.*",le!="+Inf"}[5m])))',
        ),
        ("vector(1) and on() time() > 5", "vector(1) and on() time() > 5"),
    ],
)
def test_matchers_are_added_to_selectors_only(query: str, expected: str) -> None:
    assert add_matchers(query, POD) == expected


def test_an_unterminated_string_is_an_error() -> None:
    with pytest.raises(ValueError, match="unterminated string"):
        add_matchers('up{job="x}', POD)


def test_comments_with_apostrophes_are_kept_and_skipped() -> None:
    query = (
        'sum(rate(errors{code="5xx"}[5m])) # don\'t page\n/ sum(rate(total{a="b" # it\'s\n}[5m]))'
    )
    assert add_matchers(query, 'pod=~"c-.*"') == (
        'sum(rate(errors{pod=~"c-.*",code="5xx"}[5m])) # don\'t page\n'
        '/ sum(rate(total{pod=~"c-.*",a="b" # it\'s\n}[5m]))'
    )
