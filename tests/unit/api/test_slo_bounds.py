"""The bounds a sane SLO keeps: the model accepts the edges and refuses just past them, and the
CRD carries each bound as a CEL rule with the validator's own words."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from slokeeper.api.crd import SERVICE_LEVEL_OBJECTIVE, custom_resource_definition
from slokeeper.api.slo import Alerting, BurnRateWindow, ForecastAlert, Window


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


@pytest.mark.parametrize("name", ["", "__name__", "__x", "1team", "team-name", "t.x", "slo"])
def test_an_alert_label_name_prometheus_or_slokeeper_reserves_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="label names must match") as refused:
        Alerting(labels={name: "x"})
    assert repr(name) in str(refused.value)  # the model names the offending label


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
        ("spec.alerting.annotations", "annotation names must match"),
    ],
)
def test_the_crd_carries_each_bound_as_a_cel_rule_on_its_field(path: str, message: str) -> None:
    rules = _node(path).get("x-kubernetes-validations", [])
    assert any(message in rule["message"] for rule in rules), rules
