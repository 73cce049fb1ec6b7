"""One tenant's SLO that slipped past admission fails alone (issue 22, point 8).

The API server refuses a zero or huge window today; an SLO stored before the CRD had those bounds
(an upgrade from an older chart) is still there after it. Such an SLO once raised in the middle of
the evaluation cycle (ZeroDivisionError, OverflowError) and stopped every other SLO's evaluation
until it was deleted. Here the CRD is served without the window bound for the moment it takes to
store one, as an older CRD was, then put back as committed: the operator's own check of the spec
says InvalidSpec naming the field, and another team's new SLO is evaluated beside it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from polling import eventually
from resources import availability_slo, event_reasons, read_status, ready_condition
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster

SLO_CRD = "servicelevelobjectives.slokeeper.dev"
SLO_CRD_FILE = "slokeeper.dev_servicelevelobjectives.yaml"
ROLLING_BOUND = (
    "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/window/properties/"
    "rolling/x-kubernetes-validations"
)


@pytest.fixture
def other_tenant(api_client: client.ApiClient) -> Iterator[str]:
    """A second namespace the session operator watches: another team's."""
    name = f"test-{secrets.token_hex(4)}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def _refused(cluster: LocalCluster, slo: dict[str, Any]) -> bool:
    tried = cluster.kubectl(
        "create", "--dry-run=server", "-f", "-", input_text=json.dumps(slo), check=False
    )
    return tried.returncode != 0 and "at least 1m" in tried.stderr


def _store_past_the_bound(cluster: LocalCluster, crds: Path, slo: dict[str, Any]) -> None:
    """``slo`` stored as under a CRD without the window bound; the CRD as committed afterwards."""
    cluster.kubectl(
        "patch", "crd", SLO_CRD, "--type=json",
        "-p", json.dumps([{"op": "remove", "path": ROLLING_BOUND}]),
    )  # fmt: skip
    try:
        eventually(
            lambda: (
                cluster.kubectl(
                    "create", "-f", "-", input_text=json.dumps(slo), check=False
                ).returncode
            ),
            lambda code: code == 0,
            "the API server to store the SLO without the window bound",
            timeout=30,
        )
    finally:
        cluster.kubectl("apply", "-f", str(crds / SLO_CRD_FILE))
    probe = {**slo, "metadata": {**slo["metadata"], "name": "probe"}}
    eventually(lambda: _refused(cluster, probe), bool, "the window bound served again", timeout=30)


def test_an_slo_that_slipped_past_admission_fails_alone(
    cluster: LocalCluster,
    crds_installed: Path,
    operator_process: RunningOperator,
    namespace: str,
    other_tenant: str,
) -> None:
    hostile = availability_slo(namespace, "hostile")
    hostile["spec"]["window"] = {"rolling": "0s"}
    assert _refused(cluster, hostile), "the API server admits a 0s window: nothing to slip past"
    _store_past_the_bound(cluster, crds_installed, hostile)

    status = eventually(
        lambda: read_status(cluster, "slo", namespace, "hostile"),
        lambda seen: ready_condition(seen).get("reason") == "InvalidSpec",
        "the hostile SLO to say its spec is invalid",
        timeout=60,
    )
    print(f"the hostile SLO: {ready_condition(status)}")
    assert ready_condition(status)["status"] == "False"
    assert "spec.window.rolling" in ready_condition(status)["message"]  # the operator's own check

    # Another team's SLO, created after it, is evaluated: its Ready condition is written.
    cluster.kubectl(
        "apply", "-f", "-", input_text=yaml.safe_dump(availability_slo(other_tenant, "newcomer"))
    )
    newcomer = eventually(
        lambda: ready_condition(read_status(cluster, "slo", other_tenant, "newcomer")),
        lambda ready: ready.get("reason") in ("NoData", "Evaluated"),
        "the other team's new SLO evaluated",
        timeout=60,
    )
    print(f"the newcomer: {newcomer}")
    eventually(
        lambda: event_reasons(cluster, namespace, "hostile"),
        lambda reasons: "InvalidSpec" in reasons,
        "an InvalidSpec Event on the hostile SLO",
        timeout=30,
    )
    assert "SLO evaluation cycle failed" not in operator_process.log.read_text()
    cluster.kubectl("delete", "slo", "hostile", "-n", namespace)
