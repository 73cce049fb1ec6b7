"""`slokeeper import`: Sloth and Pyrra SLOs become ServiceLevelObjectives the API server accepts,
and every field with no equivalent is named, never dropped silently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.main import main

EXAMPLES = Path(__file__).parent / "migration"


def imported(
    capsys: pytest.CaptureFixture[str], tool: str, *files: str
) -> tuple[int, list[dict[str, object]], list[str]]:
    code = main(["import", tool, *(str(EXAMPLES / f) for f in files)])
    out, err = capsys.readouterr()
    return code, list(yaml.safe_load_all(out)), err.splitlines()


def test_a_sloth_spec_keeps_queries_labels_and_severities_and_names_what_it_cannot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, slos, notes = imported(capsys, "sloth", "sloth-spec.yaml")
    assert code == 0
    (slo,) = slos
    model = ServiceLevelObjective.model_validate(slo)
    assert model.metadata.name == "myservice-requests-availability"
    spec = slo["spec"]
    assert spec["target"] == 99.9
    assert spec["window"] == {"rolling": "30d"}
    assert spec["indicator"]["ratio"]["errors"].startswith(
        'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}'
    )
    assert spec["alerting"]["labels"] == {
        "owner": "myteam",
        "tier": "2",
        "category": "availability",
    }
    assert spec["alerting"]["severity"] == {"page": "pageteam", "ticket": "slack"}
    # Alertmanager routes on Sloth's alert name: both alerts keep it, told apart by severity.
    assert spec["alerting"]["names"] == {
        "page": "MyServiceHighErrorRate",
        "ticket": "MyServiceHighErrorRate",
    }
    joined = "\n".join(notes)
    assert "alerting.name" not in joined
    assert "slos[0].alerting.page_alert.labels.routing_key" in joined
    assert "slos[0].alerting.ticket_alert.labels.slack_channel" in joined
    assert "slos[1].sli.raw: an error-ratio query alone has no equivalent" in joined


def test_a_sloth_crd_keeps_its_namespace_and_camel_case_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, slos, notes = imported(capsys, "sloth", "sloth-crd.yaml")
    assert code == 0
    (slo,) = slos
    assert slo["metadata"] == {
        "name": "home-wifi-good-wifi-client-satisfaction",
        "namespace": "monitoring",
    }
    assert (
        "unifipoller_client_satisfaction_ratio < 0.75"
        in slo["spec"]["indicator"]["ratio"]["errors"]
    )
    assert "page_alert.disable: one alert cannot be turned off alone" in "\n".join(notes)


def test_pyrra_ratio_latency_and_bool_gauge_convert(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, slos, notes = imported(capsys, "pyrra", "pyrra.yaml")
    assert code == 0
    errors, latency, gauge = slos
    assert errors["spec"]["indicator"]["ratio"]["errors"] == (
        'sum(rate(prometheus_http_requests_total{job="prometheus-k8s",code=~"5.."}[{{.window}}]))'
    )
    assert errors["spec"]["window"] == {"rolling": "2w"}
    assert errors["spec"]["service"] == "prometheus"
    assert latency["spec"]["indicator"]["latency"] == {
        "metric": "http_request_duration_seconds",
        "selector": 'job="api",handler="/checkout"',
        "threshold": 0.5,
    }
    assert latency["metadata"]["namespace"] == "shop"
    for slo in slos:
        ServiceLevelObjective.model_validate(slo)
    joined = "\n".join(notes)
    assert "spec.indicator.ratio.grouping: one SLO per label value has no equivalent" in joined
    assert "alerting.name" not in joined
    assert latency["spec"]["alerting"]["names"] == {
        "page": "ApiLatencyBudgetBurn",
        "ticket": "ApiLatencyBudgetBurn",
    }
    assert gauge["spec"]["indicator"] == {"freshness": {"boolGauge": 'etl_last_run_ok{job="etl"}'}}
    assert gauge["metadata"] == {"name": "etl-fresh", "namespace": "data"}


def test_a_file_that_is_not_an_slo_definition_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = tmp_path / "deployment.yaml"
    other.write_text("kind: Deployment\nspec: {replicas: 2}\n")
    assert main(["import", "pyrra", str(other)]) == 1
    assert "not a pyrra SLO definition" in capsys.readouterr().err


def test_openslo_slos_with_inline_and_referenced_indicators(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, slos, notes = imported(capsys, "openslo", "openslo.yaml")
    assert code == 0
    web, checkout = slos
    assert web["spec"]["target"] == 99.9
    assert web["spec"]["window"] == {"rolling": "28d"}
    assert web["spec"]["indicator"]["ratio"] == {
        "total": 'sum(rate(http_requests_total{service="web"}[{{.window}}]))',
        "good": 'sum(rate(http_requests_total{service="web",code!~"5.."}[{{.window}}]))',
    }
    assert checkout["spec"]["window"] == {"calendar": "Month", "timeZone": "Europe/Berlin"}
    assert checkout["spec"]["indicator"]["ratio"]["errors"] == (
        'sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))'
    )
    assert checkout["spec"]["target"] == 99.5
    for slo in slos:
        ServiceLevelObjective.model_validate(slo)
    joined = "\n".join(notes)
    assert "spec.alertPolicies[0] (web-burn): burn-rate alerts are generated" in joined
    assert "spec.timeWindow[0].calendar.startTime" in joined
