"""User story (issue 22, point 9): one tenant's SLO whose rules Prometheus would refuse does not
keep another tenant's new SLO out of Prometheus. The operator checks every rule group before
writing it (it has no promtool in its image); here that check is held against the real promtool,
and the running operator against the real Prometheus, whose rule reload fails whole on one bad
group."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client

from invalid_resources import sample
from polling import eventually
from promtool import promtool
from resources import availability_slo, event_reasons, get, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.api.prometheus_rules import rule_file
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.slo.objective import Objective
from slokeeper.slo.rule_check import data_read_problem, group_problems
from slokeeper.slo.rules import RuleGroup, group_name, rule_group

# A template that passes the API server and the models (any text is a valid label value) and
# that Prometheus refuses to load: the slip-past every CRD version lets through.
BROKEN_TEMPLATE = "{{ $labels.slo"


def _promtool_accepts(binary: Path, tmp_path: Path, *groups: RuleGroup) -> tuple[bool, str]:
    path = tmp_path / f"rules-{secrets.token_hex(4)}.yaml"
    path.write_text(yaml.safe_dump(rule_file(list(groups)), allow_unicode=True))
    checked = promtool(binary, "check", "rules", str(path))
    return checked.returncode == 0, checked.stdout + checked.stderr


ALERT_TEXTS = [
    "payments",
    "{{ $labels.slo }} burns at {{ $value | humanizePercentage }}",
    '{{ with query "up" }}{{ . | first | value }}{{ end }}',
    "{{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }}",
    '{{- /* note */ -}}{{ if eq $labels.severity "critical" }}page{{ else }}ticket{{ end }}',
    '{{ "}}" }}',
    BROKEN_TEMPLATE,
    "{{ if }}",
    "{{ if .Value }}unclosed",
    "{{ end }}",
    "{{ }}",
    "{{ notAFunction }}",
    "{{ (len .x }}",
    "{{/* unclosed comment }}",
]
EXPRESSIONS = [
    "vector(1)",
    'sum(rate(x{code=~"5.."}[5m])) / sum(rate(x[5m]))',
    "max_over_time(rate(x[5m])[28d:1h])",
    "x # comment (\n+ 1",
    "sum(rate(x[5m])",
    'x{a="b}',
    "rate(x[0s])",
    "rate(x[300y])",
    "rate(x[5m]))",
]


@pytest.mark.parametrize("text", ALERT_TEXTS)
def test_the_check_and_promtool_agree_on_alert_templates(
    toolchain: Toolchain, tmp_path: Path, text: str
) -> None:
    group = RuleGroup(
        "g",
        ({"alert": "A", "expr": "vector(1)", "labels": {"t": text}, "annotations": {"d": text}},),
    )
    accepted, said = _promtool_accepts(toolchain.promtool, tmp_path, group)
    problems = group_problems(group)
    if data_read_problem(text):
        # Prometheus loads it; no tenant may write it: it reads series (issue 23, point 7).
        assert accepted, said
        assert problems, said
        assert all("template: calls query" in p for p in problems), problems
    else:
        assert accepted == (problems == ()), (said, problems)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_the_check_and_promtool_agree_on_the_structure_of_promql(
    toolchain: Toolchain, tmp_path: Path, expr: str
) -> None:
    group = RuleGroup("g", ({"record": "r", "expr": expr},))
    accepted, said = _promtool_accepts(toolchain.promtool, tmp_path, group)
    assert accepted == (group_problems(group) == ()), (said, group_problems(group))


@pytest.mark.parametrize("name", ["", "__name__"])
def test_label_names_promtool_refuses_are_refused(
    toolchain: Toolchain, tmp_path: Path, name: str
) -> None:
    """(The check is stricter than Prometheus 3, which takes any UTF-8 name other than these: it
    keeps to the classic rule, which Prometheus 2 — Debian's 2.42 among them — requires.)"""
    group = RuleGroup("g", ({"alert": "A", "expr": "vector(1)", "labels": {name: "x"}},))
    accepted, said = _promtool_accepts(toolchain.promtool, tmp_path, group)
    assert not accepted, said
    assert group_problems(group), said


def _objective(labels: dict[str, str], annotations: dict[str, str], forecast: bool) -> Objective:
    """The sample SLO with these alert labels and annotations, as if the models had let them by."""
    body = sample("slo-ratio.yaml")
    body["spec"]["alerting"] |= {"forecast": {"enabled": forecast}}
    objective = ServiceLevelObjective.model_validate(body).to_objective()
    alerting = replace(
        objective.alerting,
        labels=tuple(labels.items()),
        annotations=tuple(annotations.items()),
    )
    return replace(objective, alerting=alerting)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    labels=st.dictionaries(
        st.sampled_from(["team", "", "__x", "tier"]), st.sampled_from(ALERT_TEXTS)
    ),
    annotations=st.dictionaries(st.sampled_from(["summary", "note"]), st.sampled_from(ALERT_TEXTS)),
    forecast=st.booleans(),
)
def test_every_group_the_check_passes_loads_in_promtool(
    toolchain: Toolchain,
    tmp_path: Path,
    labels: dict[str, str],
    annotations: dict[str, str],
    forecast: bool,
) -> None:
    """Whatever a tenant puts in its alerts' labels and annotations: a group the operator would
    write is one Prometheus loads (and a group promtool refuses is never written)."""
    group = rule_group(_objective(labels, annotations, forecast))
    accepted, said = _promtool_accepts(toolchain.promtool, tmp_path, group)
    problems = group_problems(group)
    if problems == ():
        assert accepted, said
    elif accepted:
        # Refused though Prometheus loads it: a label name Prometheus 3 takes (see above), or a
        # template that reads series (slokeeper's own forecast template is let by).
        reasons = ("invalid label name", "template: calls query")
        assert all(any(r in p for r in reasons) for p in problems), (said, problems)


@pytest.fixture
def other_tenant(api_client: client.ApiClient) -> Iterator[str]:
    """A second namespace the session operator watches: another team's."""
    name = f"test-{secrets.token_hex(4)}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def _loaded_groups(prometheus: PrometheusServer) -> set[str]:
    response = requests.get(f"{prometheus.url}/api/v1/rules", timeout=5)
    return {group["name"] for group in response.json()["data"]["groups"]}


def test_a_hostile_slo_does_not_keep_another_tenants_new_slo_out_of_prometheus(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    operator_process: RunningOperator,
    toolchain: Toolchain,
    namespace: str,
    other_tenant: str,
    tmp_path: Path,
) -> None:
    hostile = availability_slo(namespace, "hostile", 99.0)
    hostile["spec"]["alerting"] = {"labels": {"team": BROKEN_TEMPLATE}}
    cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(hostile))  # admitted
    # Its rules really are ones Prometheus refuses, and with them the whole reload.
    refused = rule_group(ServiceLevelObjective.model_validate(hostile).to_objective())
    accepted, said = _promtool_accepts(toolchain.promtool, tmp_path, refused)
    assert not accepted, said
    assert "unclosed action" in said, said

    status = eventually(
        lambda: read_status(cluster, "slo", namespace, "hostile"),
        lambda seen: ready_condition(seen).get("reason") == "RulesInvalid",
        "the hostile SLO to say its rules were not written",
        timeout=60,
    )
    ready = ready_condition(status)
    assert ready["status"] == "False"
    assert "label 'team': template: unclosed action" in ready["message"], ready["message"]
    assert get(cluster, "configmap", namespace, "hostile-slo") == {}

    # Afterwards another team's new SLO is loaded into Prometheus and evaluated.
    cluster.kubectl(
        "apply", "-f", "-", input_text=yaml.safe_dump(availability_slo(other_tenant, "newcomer"))
    )
    objective = ServiceLevelObjective.model_validate(availability_slo(other_tenant, "newcomer"))
    wanted = group_name(objective.to_objective())
    eventually(
        lambda: _loaded_groups(prometheus),
        lambda groups: wanted in groups,
        "Prometheus to load the newcomer SLO's rules",
        timeout=90,
    )
    eventually(
        lambda: event_reasons(cluster, namespace, "hostile"),
        lambda reasons: "RulesInvalid" in reasons,
        "a RulesInvalid Event on the hostile SLO",
        timeout=30,
    )
    assert not any(
        name.startswith(f"slokeeper-{namespace}-hostile") for name in _loaded_groups(prometheus)
    )
