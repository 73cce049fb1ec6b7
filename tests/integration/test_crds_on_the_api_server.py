"""User story: an SRE installs the CRDs with kubectl, applies the samples, and sees at a glance
what matters; a mistake in a resource is refused by the API server with the field's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from invalid_resources import INVALID_CASES, QUERY_TEMPLATES, InvalidCase, sample
from slokeeper.cli.validate import document_problems
from slokeeper.localcluster.cluster import LocalCluster

SAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "samples"


def _header(output: str) -> list[str]:
    return output.splitlines()[0].split()


def _rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in output.splitlines()[1:]}


def test_the_samples_apply_and_kubectl_shows_the_columns_an_sre_reads_first(
    cluster: LocalCluster, crds_installed: Path
) -> None:
    applied = cluster.kubectl("apply", "-f", str(SAMPLES))
    samples = len(list(SAMPLES.glob("*.yaml")))
    applied_count = applied.stdout.count("created") + applied.stdout.count("unchanged")
    assert applied_count == samples == 7, applied.stdout
    policies = cluster.kubectl("get", "cpol", "-n", "default").stdout
    assert _header(policies) == ["NAME", "MINIMUM", "RISK", "AGE"]  # "MINIMUM RISK", split
    assert _rows(policies)["default"][1] == "Medium"
    # It would govern the ChangeRollouts of this namespace for the tests after this one.
    cluster.kubectl("delete", "cpol", "default", "-n", "default")

    slos = cluster.kubectl("get", "slo", "-n", "default").stdout
    assert _header(slos) == [
        "NAME",
        "SERVICE",
        "TARGET",
        "SLI",
        "BUDGET",
        "LEFT",
        "POLICY",
        "READY",
        "AGE",
    ]
    rows = _rows(slos)
    assert set(rows) >= {"checkout-availability", "checkout-latency", "checkout-monthly"}
    assert rows["checkout-availability"][1:3] == ["checkout", "99.9"]

    rollouts = cluster.kubectl("get", "crollout", "-n", "default").stdout
    assert _header(rollouts) == [
        "NAME",
        "TARGET",
        "PHASE",
        "STEP",
        "WEIGHT",
        "REASON",
        "RISK",
        "READY",
        "AGE",
    ]
    assert _rows(rollouts)["checkout"][1] == "checkout"
    assert "Medium" in _rows(rollouts)["checkout"]

    by_category = cluster.kubectl("get", "slokeeper", "-n", "default", "-o", "name").stdout.split()
    assert "servicelevelobjective.slokeeper.dev/checkout-latency" in by_category
    assert "changerollout.slokeeper.dev/checkout" in by_category
    assert "maintenancewindow.slokeeper.dev/db-upgrade" in by_category

    windows = cluster.kubectl("get", "mw", "-n", "default").stdout
    assert _header(windows) == ["NAME", "START", "END", "REASON", "AGE"]


def test_kubectl_explain_documents_every_field(cluster: LocalCluster, crds_installed: Path) -> None:
    target = cluster.kubectl("explain", "slo.spec.target").stdout
    assert "Objective in percent, strictly between 0 and 100" in target
    steps = cluster.kubectl("explain", "crollout.spec.steps.weight").stdout
    assert "Percent of Ready pods that run the canary" in steps


def test_the_api_server_fills_in_the_default_canary_plan(
    cluster: LocalCluster, crds_installed: Path, namespace: str
) -> None:
    minimal = {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ChangeRollout",
        "metadata": {"name": "minimal", "namespace": namespace},
        "spec": {"targetRef": {"name": "checkout"}},
    }
    cluster.kubectl("apply", "-f", "-", input_text=json.dumps(minimal))
    stored = json.loads(
        cluster.kubectl("get", "crollout", "minimal", "-n", namespace, "-o", "json").stdout
    )
    spec = stored["spec"]
    assert [step["weight"] for step in spec["steps"]] == [5, 25, 50]
    assert spec["risk"] == "Medium"
    assert spec["analysis"]["failureLimit"] == 2
    assert spec["gates"]["approval"]["requiredFor"] == ["High"]


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: case.id)
def test_an_invalid_resource_is_refused_naming_the_field(
    cluster: LocalCluster, crds_installed: Path, namespace: str, case: InvalidCase
) -> None:
    resource = case.resource()
    resource["metadata"]["namespace"] = namespace
    refused = cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(resource), check=False)
    if case.validate_only:  # the API server cannot know it: only `slokeeper validate` refuses it
        assert refused.returncode == 0, refused.stderr
        assert document_problems(resource)[0] is None
        return
    assert refused.returncode != 0, f"the API server accepted it: {refused.stdout}"
    if case.api_names_field:
        assert case.field + ":" in refused.stderr, refused.stderr
    assert case.expected_api_message in refused.stderr, refused.stderr


def test_the_api_server_refuses_exactly_the_alert_templates_the_models_refuse(
    cluster: LocalCluster, crds_installed: Path, namespace: str
) -> None:
    """Issue 23, point 7: a template that reads series (query) is refused in an alert label or
    annotation, with the field's name; every other template passes, as in the models."""
    for index, (text, reads) in enumerate(QUERY_TEMPLATES):
        for field in ("labels", "annotations"):
            slo = sample("slo-ratio.yaml")
            slo["metadata"] = {"name": f"template-{index}-{field}", "namespace": namespace}
            slo["spec"]["alerting"][field] = {"note": text}
            applied = cluster.kubectl(
                "apply", "--dry-run=server", "-f", "-", input_text=yaml.safe_dump(slo), check=False
            )
            model, _ = document_problems(slo)
            assert (applied.returncode != 0) is reads is (model is None), (text, applied.stderr)
            if reads:
                assert f"spec.alerting.{field}: Invalid value" in applied.stderr, applied.stderr
                assert f"{field[:-1]} values must not call query" in applied.stderr


def test_the_target_of_a_change_rollout_cannot_be_switched(
    cluster: LocalCluster, crds_installed: Path, namespace: str
) -> None:
    rollout = sample("changerollout.yaml")
    rollout["metadata"]["namespace"] = namespace
    cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(rollout))
    rollout["spec"]["targetRef"]["name"] = "payments"
    refused = cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(rollout), check=False)
    assert refused.returncode != 0, refused.stdout
    assert "spec.targetRef: Invalid value" in refused.stderr
    assert "targetRef is immutable" in refused.stderr


def test_an_slo_at_the_edges_of_every_bound_is_accepted(
    cluster: LocalCluster, crds_installed: Path, namespace: str
) -> None:
    """The bounds refuse only what is out of range: 1m and 1y windows, a day-long burn-rate row
    (CEL's own duration() knows no d, w or y) and every label name Prometheus allows pass."""
    edges = []
    for name, rolling in (("shortest", "1m"), ("longest", "1y"), ("mixed", "52w1d")):
        slo = sample("slo-ratio.yaml")
        slo["metadata"] = {"name": f"edge-{name}", "namespace": namespace}
        slo["spec"]["window"] = {"rolling": rolling}
        slo["spec"]["alerting"]["labels"] = {"_team": "a", "Team_2": "b", "sloth": "c"}
        slo["spec"]["alerting"]["labels"] |= {"namespaces": "d", "team": "x" * 1024}
        slo["spec"]["alerting"]["annotations"] = {"note": "{{ $labels.slo }}" + "x" * 4079}
        slo["spec"]["alerting"]["burnRates"] = [
            {"kind": "page", "longWindow": "1h", "shortWindow": "1m", "burnRate": 14.4},
            {"kind": "ticket", "longWindow": "1y", "shortWindow": "1d", "burnRate": 1},
        ]
        slo["spec"]["alerting"]["forecast"] = {"enabled": True, "window": "1m", "for": "1y"}
        edges.append(slo)
    applied = cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all(edges))
    assert applied.stdout.count("created") == 3, applied.stdout + applied.stderr
