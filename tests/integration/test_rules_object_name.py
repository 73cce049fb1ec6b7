"""User story (issue 23, point 6): a team already has a ConfigMap named like the rules object of
an SLO they create (`<slo>-slo`). slokeeper never overwrites it: the SLO says why no rules were
written, the ConfigMap keeps its data; once it is renamed away, the rules are written."""

from __future__ import annotations

import json

from kubernetes import client

from polling import eventually
from resources import apply, availability_slo, get, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster

THEIRS = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "checkout-availability-slo"},
    "data": {"settings.yaml": "theirs: true\n"},
}


def test_a_configmap_named_like_the_rules_object_is_left_alone(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=json.dumps(THEIRS))
    apply(cluster, availability_slo(namespace))
    refused = eventually(
        lambda: ready_condition(read_status(cluster, "slo", namespace, "checkout-availability")),
        lambda condition: "is not this SLO's rules object" in condition.get("message", ""),
        "the SLO to say the rules object's name is taken",
        timeout=90,
    )
    assert refused["status"] == "False", refused
    kept = get(cluster, "configmap", namespace, "checkout-availability-slo")
    assert kept["data"] == THEIRS["data"]
    assert not kept["metadata"].get("ownerReferences")

    cluster.kubectl("delete", "configmap", "checkout-availability-slo", "-n", namespace)
    written = eventually(
        lambda: get(cluster, "configmap", namespace, "checkout-availability-slo"),
        lambda body: bool(body.get("metadata", {}).get("ownerReferences")),
        "the SLO's own rules object once the name is free",
        timeout=90,
    )
    assert written["metadata"]["ownerReferences"][0]["kind"] == "ServiceLevelObjective"
    assert "checkout-availability" in json.dumps(written["data"])
