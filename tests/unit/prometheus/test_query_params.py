"""Backend query parameters (Thanos' partial_response and dedup, VictoriaMetrics'
deny_partial_response, anything else given as KEY=VALUE): parsed from the flags and the
environment, safe by default, and sent with every query the client makes."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import pytest

from slokeeper.cli.prometheus_options import add_prometheus_arguments, prometheus_access
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.query_params import (
    Dedup,
    PartialResponse,
    backend_query_params,
    parse_query_param,
    parse_query_params,
)
from stub_prometheus import StubPrometheus

SAFE_DEFAULTS = (("partial_response", "false"), ("deny_partial_response", "1"), ("dedup", "true"))


def test_key_value_items_parse_and_a_value_may_hold_equals_signs() -> None:
    assert parse_query_param("max_source_resolution=0s") == ("max_source_resolution", "0s")
    assert parse_query_param("extra_label=team=shop") == ("extra_label", "team=shop")
    assert parse_query_param("nocache=") == ("nocache", "")
    assert parse_query_params(" dedup=false, replicaLabels=a ,replicaLabels=b,") == (
        ("dedup", "false"),
        ("replicaLabels", "a"),
        ("replicaLabels", "b"),
    )
    assert parse_query_params("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dedup", "not KEY=VALUE"),
        ("=1", "needs a name"),
        ("timeout=1s", "slokeeper's own"),
        ("time=0", "slokeeper's own"),
        ("query=up", "slokeeper's own"),
    ],
)
def test_malformed_or_reserved_parameters_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_query_param(text)


def test_partial_responses_are_denied_and_replicas_deduplicated_by_default() -> None:
    assert backend_query_params() == SAFE_DEFAULTS
    assert PrometheusAccess("http://thanos-query:9090").backend_query_params() == SAFE_DEFAULTS


def test_named_settings_map_to_each_backends_parameter() -> None:
    assert backend_query_params(PartialResponse.ALLOW, Dedup.OFF) == (
        ("partial_response", "true"),
        ("deny_partial_response", "0"),
        ("dedup", "false"),
    )
    assert backend_query_params(PartialResponse.BACKEND_DEFAULT, Dedup.BACKEND_DEFAULT) == ()


def test_an_explicit_parameter_replaces_the_named_settings_one_of_the_same_name() -> None:
    extra = (("partial_response", "true"), ("replicaLabels", "a"), ("replicaLabels", "b"))
    assert backend_query_params(extra=extra) == (
        ("deny_partial_response", "1"),
        ("dedup", "true"),
        *extra,
    )


def _access(argv: list[str]) -> PrometheusAccess:
    parser = argparse.ArgumentParser()
    add_prometheus_arguments(parser, default_url="http://prometheus:9090")
    return prometheus_access(parser.parse_args(argv))


def test_flags_set_the_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLOKEEPER_PROMETHEUS_QUERY_PARAMS", raising=False)
    access = _access(
        [
            "--prometheus-partial-response", "allow",
            "--prometheus-dedup", "backend-default",
            "--prometheus-query-param", "max_source_resolution=0s",
            "--prometheus-query-param", "extra_label=team=shop",
        ]
    )  # fmt: skip
    assert access.backend_query_params() == (
        ("partial_response", "true"),
        ("deny_partial_response", "0"),
        ("max_source_resolution", "0s"),
        ("extra_label", "team=shop"),
    )
    assert _access([]).backend_query_params() == SAFE_DEFAULTS


def test_the_environment_sets_them_as_the_chart_does_and_a_flag_replaces_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOKEEPER_PROMETHEUS_PARTIAL_RESPONSE", "backend-default")
    monkeypatch.setenv("SLOKEEPER_PROMETHEUS_DEDUP", "off")
    monkeypatch.setenv("SLOKEEPER_PROMETHEUS_QUERY_PARAMS", "nocache=1,latency_offset=0s")
    assert _access([]).backend_query_params() == (
        ("dedup", "false"),
        ("nocache", "1"),
        ("latency_offset", "0s"),
    )
    flagged = _access(["--prometheus-query-param", "nocache=0"])
    assert flagged.query_params == (("nocache", "0"),)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SLOKEEPER_PROMETHEUS_PARTIAL_RESPONSE", "maybe", "takes deny|allow|backend-default"),
        ("SLOKEEPER_PROMETHEUS_DEDUP", "yes", "SLOKEEPER_PROMETHEUS_DEDUP.*takes on|off"),
        ("SLOKEEPER_PROMETHEUS_QUERY_PARAMS", "dedup", "SLOKEEPER_PROMETHEUS_QUERY_PARAMS: "),
        ("SLOKEEPER_PROMETHEUS_QUERY_PARAMS", "step=1m", "slokeeper's own"),
    ],
)
def test_a_bad_environment_value_stops_with_its_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit, match=message):
        _access([])


def test_a_bad_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _access(["--prometheus-query-param", "timeout=5s"])
    assert "query parameter 'timeout' is slokeeper's own" in capsys.readouterr().err


def test_every_instant_and_range_query_carries_the_parameters(
    stub_prometheus: StubPrometheus,
) -> None:
    url = stub_prometheus.url
    access = PrometheusAccess(
        url,
        timeout_seconds=3,
        query_params=(("replicaLabels", "a"), ("replicaLabels", "b"), ("dedup", "false")),
    )
    client = access.client()
    at = datetime(2026, 11, 26, 12, tzinfo=UTC)
    client.query("up")
    client.query("up", at=at)
    client.query_range("up", at.replace(hour=11), at, 60)
    assert stub_prometheus.paths == ["/api/v1/query", "/api/v1/query", "/api/v1/query_range"]
    backend = [
        ("partial_response", "false"),
        ("deny_partial_response", "1"),
        ("replicaLabels", "a"),
        ("replicaLabels", "b"),
        ("dedup", "false"),
    ]
    seen = stub_prometheus.params
    for params in seen:
        assert [p for p in params if p[0] not in {"query", "time", "start", "end", "step"}] == [
            *backend,
            ("timeout", "3000ms"),
        ], params
    assert ("time", f"{at.timestamp():.3f}") in seen[1]
    assert ("query", "up") in seen[2]
    assert ("step", "60s") in seen[2]


def test_a_client_made_without_parameters_sends_only_prometheus_own(
    stub_prometheus: StubPrometheus,
) -> None:
    url = stub_prometheus.url
    access = PrometheusAccess(
        url,
        timeout_seconds=3,
        partial_response=PartialResponse.BACKEND_DEFAULT,
        dedup=Dedup.BACKEND_DEFAULT,
    )
    access.client().query("up")
    assert {key for key, _ in stub_prometheus.params[0]} == {"query", "timeout"}
