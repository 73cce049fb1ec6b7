"""The bounds a sane SLO keeps: the model accepts the edges and refuses just past them, and the
CRD carries each bound as a CEL rule with the validator's own words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from invalid_resources import QUERY_TEMPLATES
from slokeeper.api.crd import SERVICE_LEVEL_OBJECTIVE, custom_resource_definition
from slokeeper.api.slo import Alerting, BurnRateWindow, ForecastAlert, Window
from slokeeper.api.slo_bounds import DATA_READING_TEMPLATE, cel_string
from slokeeper.slo.rule_check import data_read_problem
from slokeeper.slo.rules import RESERVED_ALERT_LABELS


@pytest.mark.parametrize("rolling", ["1m", "60s", "1y", "52w1d", "1h30m", "28d", "59s1000ms"])
def test_a_window_from_a_minute_to_a_year_is_accepted(rolling: str) -> None:
    assert Window(rolling=rolling).rolling == rolling


@pytest.mark.parametrize("rolling", ["0s", "59s", "59999ms", "1y1ms", "366d", "10000y", "0m"])
def test_a_window_past_either_end_is_refused(rolling: str) -> None:
    with pytest.raises(ValidationError, match="a window must be at least 1m and at most 1y"):
        Window(rolling=rolling)


@pytest.mark.parametrize(("long", "short"), [("1h", "0s"), ("1h", "999ms"), ("2y", "1h")])
def test_a_burn_rate_window_past_either_end_is_refused(long: str, short: str) -> None:
    with pytest.raises(ValidationError, match="a burn-rate window must be at least 1m"):
        BurnRateWindow.model_validate(
            {"kind": "page", "longWindow": long, "shortWindow": short, "burnRate": 14.4}
        )


def test_a_forecast_window_under_a_minute_is_refused_and_for_may_be_zero() -> None:
    with pytest.raises(ValidationError, match="a forecast window must be at least 1m"):
        ForecastAlert.model_validate({"enabled": True, "window": "30s"})
    assert ForecastAlert.model_validate({"for": "0s"}).for_ == "0s"


@pytest.mark.parametrize("name", ["", "__name__", "__x", "1team", "team-name", "t.x"])
def test_an_alert_label_name_prometheus_refuses_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="label names must match") as refused:
        Alerting(labels={name: "x"})
    assert repr(name) in str(refused.value)  # the model names the offending label


@pytest.mark.parametrize("name", RESERVED_ALERT_LABELS)
def test_every_label_slokeeper_or_prometheus_sets_on_alerts_is_reserved(name: str) -> None:
    with pytest.raises(
        ValidationError, match=r"label names alertname, namespace, .* reserved"
    ) as refused:
        Alerting(labels={"team": "payments", name: "x"})
    assert repr(name) in str(refused.value)
    assert {"alertname", "namespace", "slo_namespace", "severity"} <= set(RESERVED_ALERT_LABELS)


@pytest.mark.parametrize(("text", "reads"), QUERY_TEMPLATES)
def test_a_label_or_annotation_template_that_reads_series_is_refused(
    text: str, reads: bool
) -> None:
    for field in ("labels", "annotations"):
        if reads:
            with pytest.raises(ValidationError, match="values must not call query"):
                Alerting.model_validate({field: {"note": text}})
        else:
            assert Alerting.model_validate({field: {"note": text}}) is not None


def test_the_cel_and_python_expressions_are_one_and_agree_with_the_rule_check() -> None:
    """The CEL rule carries the very expression the validator uses, and on every template the
    expression and the rule check's own parse of the template say the same."""
    rules = _node("spec.alerting.annotations")["x-kubernetes-validations"]
    assert any(cel_string(DATA_READING_TEMPLATE) in rule["rule"] for rule in rules)
    for text, reads in QUERY_TEMPLATES:
        assert (re.search(DATA_READING_TEMPLATE, text) is not None) is reads, text
        assert (data_read_problem(text) is not None) is reads, text


def test_label_and_annotation_values_are_bounded() -> None:
    with pytest.raises(ValidationError, match="at most 1024 characters"):
        Alerting(labels={"team": "x" * 1025})
    with pytest.raises(ValidationError, match="at most 4096 characters"):
        Alerting(annotations={"note": "x" * 4097})
    assert Alerting(labels={"team": "x" * 1024}, annotations={"note": "x" * 4096})


def test_valid_label_names_pass_and_more_than_32_are_refused() -> None:
    assert Alerting(labels={"_team": "a", "Team_2": "b", "sloth": "c"}).labels["sloth"] == "c"
    with pytest.raises(ValidationError, match="at most 32"):
        Alerting(labels={f"l{i}": "x" for i in range(33)})


def _node(path: str) -> dict[str, Any]:
    crd = custom_resource_definition(SERVICE_LEVEL_OBJECTIVE)
    node: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for name in path.split("."):
        node = node["items"] if name == "[]" else node["properties"][name]
    return node


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("spec.window.rolling", "a window must be at least 1m and at most 1y"),
        ("spec.alerting.burnRates.[].longWindow", "a burn-rate window must be at least 1m"),
        ("spec.alerting.burnRates.[].shortWindow", "a burn-rate window must be at least 1m"),
        ("spec.alerting.forecast.window", "a forecast window must be at least 1m"),
        ("spec.alerting.forecast.for", "for must be at most 1y"),
        ("spec.alerting.labels", "label names must match"),
        ("spec.alerting.labels", "label names alertname, namespace, slo, slo_namespace"),
        ("spec.alerting.labels", "label values must not call query"),
        ("spec.alerting.annotations", "annotation names must match"),
        ("spec.alerting.annotations", "annotation values must not call query"),
        ("spec.alerting.names.page", "names.page must be a Prometheus alert name"),
        ("spec.alerting.names.ticket", "names.ticket must be a Prometheus alert name"),
    ],
)
def test_the_crd_carries_each_bound_as_a_cel_rule_on_its_field(path: str, message: str) -> None:
    rules = _node(path).get("x-kubernetes-validations", [])
    assert any(message in rule["message"] for rule in rules), rules


@pytest.mark.parametrize("name", ["MyServiceHighErrorRate", "_slo_burn", "ErrorBudgetBurn2"])
def test_an_alert_name_prometheus_accepts_is_kept(name: str) -> None:
    names = Alerting.model_validate({"names": {"page": name}}).names
    assert (names.page, names.ticket) == (name, "ErrorBudgetBurnTicket")


@pytest.mark.parametrize("name", ["", "2fast", "error-budget", "slo:burn", "Burn Page", "né"])
def test_an_alert_name_prometheus_refuses_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(ValidationError, match=r"names\.ticket must be a Prometheus alert name"):
        Alerting.model_validate({"names": {"ticket": name}})
