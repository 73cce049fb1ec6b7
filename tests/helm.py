"""The chart as tests use it: ``helm`` from the toolchain, run against a local cluster."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from polling import eventually
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain

CHART = Path(__file__).resolve().parents[1] / "charts" / "slokeeper"


def helm(
    toolchain: Toolchain, *args: str, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run helm; fail with what it said when it exits non-zero."""
    config = ("--kubeconfig", str(kubeconfig)) if kubeconfig else ()
    finished = subprocess.run(
        [str(toolchain.helm), *args, *config],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, f"helm {' '.join(args)}: {finished.stderr}{finished.stdout}"
    return finished


def rendered(
    toolchain: Toolchain,
    *set_values: str,
    namespace: str = "slokeeper-system",
    show_only: str | None = None,
) -> str:
    """``helm template`` output (the toolchain's helm needs the Kubernetes version told)."""
    values = [arg for value in set_values for arg in ("--set", value)]
    if show_only:
        values += ["--show-only", show_only]
    return helm(
        toolchain, "template", "slokeeper", str(CHART), "--namespace", namespace,
        "--kube-version", toolchain.kubernetes_version, *values,
    ).stdout  # fmt: skip


def objects(text: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(text) if document]


def install_service_monitor_crd(cluster: LocalCluster, toolchain: Toolchain) -> None:
    """Only the ServiceMonitor CRD: PrometheusRule stays unserved, so the operator writes its
    rules as ConfigMaps on this cluster."""
    crd = toolchain.prometheus_operator_crds / "monitoring.coreos.com_servicemonitors.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    wait_crds_established(cluster)


def wait_crds_established(cluster: LocalCluster) -> None:
    """Until every CRD in the cluster is Established. Polled rather than `kubectl wait`, which
    fails outright ("<nil> is of the type <nil>") on a CRD the API server has not given
    conditions yet."""

    def waiting() -> list[str]:
        listed = json.loads(cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
        return [
            crd["metadata"]["name"]
            for crd in listed
            if not any(
                c["type"] == "Established" and c["status"] == "True"
                for c in crd.get("status", {}).get("conditions") or []
            )
        ]

    eventually(waiting, lambda names: names == [], "every CRD Established")


# How the API server names a verb of RBAC in admission (what a ValidatingAdmissionPolicy matches).
ADMISSION_OPERATIONS = {
    "create": "CREATE",
    "update": "UPDATE",
    "patch": "UPDATE",
    "delete": "DELETE",
    "deletecollection": "DELETE",
}
# What a stolen operator token could run pods or change a cluster's configuration with.
WORKLOAD_RESOURCES = {
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("", "configmaps"),
    ("monitoring.coreos.com", "prometheusrules"),
}


def operator_user(namespace: str = "slokeeper-system", service_account: str = "slokeeper") -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def audit_policy(user: str) -> str:
    """An API server audit policy that logs the calls of ``user`` only, with their answers."""
    return f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["{user}"]
  - level: None
"""


def audited_calls(cluster: LocalCluster, user: str) -> list[dict[str, Any]]:
    """The calls ``user`` made on objects, as the API server's audit log has them."""
    return [
        event
        for line in cluster.audit_log.read_text().splitlines()
        if (event := json.loads(line))["user"]["username"] == user and "objectRef" in event
    ]


def permission(event: dict[str, Any]) -> tuple[str, str, str]:
    """(API group, resource[/subresource], verb) of an audited call."""
    ref = event["objectRef"]
    resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
    return ref.get("apiGroup", ""), resource, event["verb"]


def granted(
    text: str, service_account: str = "slokeeper", *, cluster_wide: bool = False
) -> set[tuple[str, str, str]]:
    """What the roles bound to the operator's ServiceAccount allow (not the approver role);
    ``cluster_wide``: only what ClusterRoleBindings grant, in every namespace."""
    documents = objects(text)
    binding_kinds = (
        ("ClusterRoleBinding",) if cluster_wide else ("ClusterRoleBinding", "RoleBinding")
    )
    bound = {
        (d["roleRef"]["kind"], d["roleRef"]["name"])
        for d in documents
        if d["kind"] in binding_kinds
        and any(s.get("name") == service_account for s in d["subjects"])
    }
    found = set()
    for document in documents:
        if (document["kind"], document["metadata"]["name"]) in bound:
            for rule in document["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        found |= {(group, resource, verb) for verb in rule["verbs"]}
    return found


def policed_writes(text: str, user: str) -> set[tuple[str, str, str]]:
    """(group, resource, operation) that a ValidatingAdmissionPolicy of the chart checks for
    ``user`` in every namespace: matched on that username, bound with Deny and no narrower
    match of its binding."""
    documents = objects(text)
    denying = {
        d["spec"]["policyName"]
        for d in documents
        if d["kind"] == "ValidatingAdmissionPolicyBinding"
        and "Deny" in d["spec"]["validationActions"]
        and not d["spec"].get("matchResources")
    }
    found = set()
    for document in documents:
        if document["kind"] != "ValidatingAdmissionPolicy":
            continue
        spec = document["spec"]
        conditions = [c["expression"] for c in spec.get("matchConditions", [])]
        if document["metadata"]["name"] not in denying or not any(
            f'request.userInfo.username == "{user}"' in c for c in conditions
        ):
            continue
        for rule in spec["matchConstraints"]["resourceRules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    found |= {(group, resource, op) for op in rule["operations"]}
    return found


def unpoliced_cluster_wide_writes(text: str, user: str) -> set[tuple[str, str, str]]:
    """Writes on workload and configuration objects the operator's ServiceAccount may make in
    every namespace with no admission policy of the chart holding it to its own objects."""
    policed = policed_writes(text, user)
    return {
        (group, resource, verb)
        for group, resource, verb in granted(text, cluster_wide=True)
        if (group, resource) in WORKLOAD_RESOURCES
        and verb in ADMISSION_OPERATIONS
        and (group, resource, ADMISSION_OPERATIONS[verb]) not in policed
    }


# The tests' operator runs as the cluster admin: the identity a test exempts where the chart
# exempts the operator's ServiceAccount.
TEST_OPERATOR_USER = "kwok-admin"


@contextmanager
def policy_in_namespace(
    toolchain: Toolchain, cluster: LocalCluster, namespace: str, template: str, values_key: str
) -> Iterator[None]:
    """The chart's admission policies in ``templates/<template>.yaml``, bound to ``namespace``
    only (other tests' objects stay free) and exempting the tests' operator; removed after."""
    label = f"slokeeper-test/{template}"
    cluster.kubectl("label", "namespace", namespace, f"{label}=on")
    policy = rendered(
        toolchain,
        f"{values_key}.exemptUsers={{{TEST_OPERATOR_USER}}}",
        f"{values_key}.namespaceSelector.matchLabels.{label}=on",
        show_only=f"templates/{template}.yaml",
    )
    cluster.kubectl("apply", "-f", "-", input_text=policy)
    try:
        yield
    finally:
        cluster.kubectl("delete", "-f", "-", input_text=policy, check=False)
