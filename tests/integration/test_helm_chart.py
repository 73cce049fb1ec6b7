"""User story: an SRE installs slokeeper with ``helm install`` and it works under the chart's
RBAC, which grants exactly what the operator uses and nothing more.

The chart goes onto a cluster of its own whose API server writes an audit log. The operator runs
as a process (no kubelet here can run its image) with the chart's ServiceAccount token, through a
whole rollout; then the log shows every call it made: none may be refused, and every grant in the
chart must have been used (or be listed below with the reason it was not)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from helm import (
    ADMISSION_OPERATIONS,
    CHART,
    WORKLOAD_RESOURCES,
    audit_policy,
    audited_calls,
    granted,
    helm,
    install_service_monitor_crd,
    objects,
    operator_user,
    permission,
    rendered,
    unpoliced_cluster_wide_writes,
)
from kubeconfigs import service_account_kubeconfig
from polling import eventually
from resources import apply, availability_slo, change_rollout, read_status, ready_condition
from running_operator import running_operator
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from workloads import deploy_ready, set_image

RELEASE_NAMESPACE = "slokeeper-system"
OPERATOR_USER = operator_user(RELEASE_NAMESPACE)
AUDIT_POLICY = audit_policy(OPERATOR_USER)
# Granted, and needed, but not reached by this test's run.
NOT_EXERCISED_HERE = {
    ("monitoring.coreos.com", "prometheusrules", verb): "rules go to PrometheusRule objects only "
    "where prometheus-operator serves them; this cluster does not, so they go to ConfigMaps"
    for verb in ("get", "create", "update")
} | {
    ("slokeeper.dev", "changepolicies", verb): "copies of the release namespace's default "
    "ChangePolicy (test_change_policy.py): this run has no default, so nothing is copied"
    for verb in ("create", "update", "delete")
}


@pytest.fixture(scope="module")
def chart_cluster(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    cluster = LocalCluster(
        toolchain, tmp_path_factory.mktemp("chart-cluster"), nodes=1, audit_policy=AUDIT_POLICY
    )
    with cluster:
        install_service_monitor_crd(cluster, toolchain)
        yield cluster


def test_helm_lint_passes_with_defaults_and_with_everything_on(toolchain: Toolchain) -> None:
    helm(toolchain, "lint", "--strict", str(CHART))
    helm(
        toolchain, "lint", "--strict", str(CHART),
        "--set", "serviceMonitor.enabled=true,grafanaDashboard.enabled=true",
        "--set", "prometheus.bearerToken.secretName=prometheus-token",
        "--set", "prometheus.ca.configMapName=prometheus-ca,podDisruptionBudget.enabled=true",
        "--set", "replicaCount=2",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            "prometheus.bearerToken.secretName=a,prometheus.basicAuth.secretName=b",
            "prometheus.bearerToken and prometheus.basicAuth are exclusive",
        ),
        (
            "replicaCount=2,leaderElection.enabled=false",
            "replicaCount above 1 needs leaderElection.enabled",
        ),
        (
            "podDisruptionBudget.enabled=true",  # with one replica: no drain could ever pass
            "podDisruptionBudget.minAvailable must be below replicaCount",
        ),
        (
            "watchNamespaces={shop,kube-system}",
            "watchNamespaces lists kube-system, where operatorWritePolicy.deniedNamespaces says"
            " slokeeper never writes",
        ),
    ],
    ids=[
        "two-prometheus-credentials",
        "replicas-without-lease",
        "budget-blocking-drains",
        "serving-kube-system",
    ],
)
def test_contradicting_values_are_refused_with_a_message(
    toolchain: Toolchain, values: str, message: str
) -> None:
    refused = subprocess.run(
        [str(toolchain.helm), "template", str(CHART), "--kube-version", "1.36.0",
         "--set", values],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert message in refused.stderr


def test_upgrades_roll_one_standby_in_before_an_old_replica_goes(toolchain: Toolchain) -> None:
    def strategy(*values: str) -> dict[str, Any]:
        rendered_objects = objects(rendered(toolchain, *values))
        deployment = next(o for o in rendered_objects if o["kind"] == "Deployment")
        return dict(deployment["spec"]["strategy"])

    assert strategy() == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert strategy("leaderElection.enabled=false") == {"type": "Recreate"}


@pytest.mark.parametrize(
    "values",
    [
        (),
        (
            "serviceMonitor.enabled=true",
            "grafanaDashboard.enabled=true",
            "prometheus.basicAuth.secretName=prometheus-basic-auth",
            "prometheus.ca.secretName=prometheus-ca",
            "replicaCount=2",
            "podDisruptionBudget.enabled=true",
        ),
        ("watchNamespaces={shop,payments}", "leaderElection.enabled=false"),
    ],
    ids=["defaults", "everything-on", "two-namespaces"],
)
def test_every_rendered_object_passes_a_server_side_dry_run(
    toolchain: Toolchain, chart_cluster: LocalCluster, values: tuple[str, ...]
) -> None:
    for namespace in (RELEASE_NAMESPACE, "shop", "payments"):
        chart_cluster.kubectl("create", "namespace", namespace, check=False)
    chart_cluster.kubectl("apply", "--server-side", "-f", str(CHART.parents[1] / "crds"))
    text = rendered(toolchain, *values)
    dry_run = chart_cluster.kubectl(
        "apply", "--dry-run=server", "-o", "name", "-f", "-", input_text=text
    )
    kinds = {line.split("/")[0] for line in dry_run.stdout.split()}
    assert "deployment.apps" in kinds
    assert len(dry_run.stdout.split()) == len(objects(text))


def test_the_operator_pod_is_locked_down(toolchain: Toolchain) -> None:
    # Values that add variables of their own, so the check below sees those too.
    optional = ("alertmanager.url=http://alertmanager-operated.monitoring.svc:9093",)
    deployment = next(
        o for o in objects(rendered(toolchain, *optional)) if o["kind"] == "Deployment"
    )
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]
    # Every variable the chart sets is one `slokeeper run` reads.
    run_help = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "run", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout.replace("\n", " ")  # fmt: skip
    chart_variables = {
        variable["name"]
        for variable in container["env"]
        if variable["name"].startswith("SLOKEEPER_")
    }
    assert "SLOKEEPER_ALERTMANAGER_URL" in chart_variables
    unknown = {name for name in chart_variables if name not in run_help}
    assert not unknown, f"the chart sets variables `slokeeper run` does not read: {unknown}"


def _canary_image(apps: client.AppsV1Api, namespace: str) -> str | None:
    """The canary Deployment's image, None while it does not exist."""
    try:
        found = apps.read_namespaced_deployment("checkout-canary", namespace)
    except ApiException as error:
        if error.status != 404:
            raise
        return None
    image: str = found.spec.template.spec.containers[0].image
    return image


def _replicas(apps: client.AppsV1Api, namespace: str, name: str) -> int | None:
    """The Deployment's desired replicas, None while it does not exist (being replaced)."""
    try:
        found: int | None = apps.read_namespaced_deployment(name, namespace).spec.replicas
    except ApiException as error:
        if error.status != 404:
            raise
        return None
    return found


def _rollout_cli(kubeconfig: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", *args,
         "--kubeconfig", str(kubeconfig)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip


def _target_images(cluster: LocalCluster, namespace: str) -> list[str]:
    """Images of the target's own pods (not its canary's) that are not going."""
    pods = json.loads(
        cluster.kubectl(
            "get", "pods", "-n", namespace, "-l", "app=checkout,!slokeeper.dev/track", "-o", "json"
        ).stdout
    )["items"]
    return sorted(
        pod["spec"]["containers"][0]["image"]
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
    )


def test_helm_install_and_a_whole_rollout_under_the_charts_rbac(
    toolchain: Toolchain,
    chart_cluster: LocalCluster,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    cluster = chart_cluster
    helm(
        toolchain, "upgrade", "--install", "slokeeper", str(CHART),
        "--namespace", RELEASE_NAMESPACE, "--create-namespace", "--wait", "--timeout", "2m",
        "--set", "replicaCount=2",
        # The cluster admin is break glass here: it may resume a guarded Deployment by hand.
        "--set", "guardedDeploymentPolicy.exemptUsers={kwok-admin}",
        kubeconfig=cluster.kubeconfig,
    )  # fmt: skip
    cluster.kubectl(
        "rollout", "status", "deployment/slokeeper", "-n", RELEASE_NAMESPACE, "--timeout=60s"
    )
    operator_kubeconfig = service_account_kubeconfig(
        cluster, RELEASE_NAMESPACE, "slokeeper", tmp_path / "operator.kubeconfig"
    )
    namespace = "shop"
    cluster.kubectl("create", "namespace", namespace, check=False)
    apps = client.AppsV1Api(api_client(str(cluster.kubeconfig)))
    deploy_ready(cluster, apps, namespace, 2, "shop/checkout:1.1")

    def phase() -> dict[str, Any]:
        return read_status(cluster, "crollout", namespace, "checkout")

    with running_operator(
        operator_kubeconfig,
        prometheus.url,
        tmp_path / "operator.log",
        extra_args=("--leader-elect", "--leader-election-namespace", RELEASE_NAMESPACE),
    ) as operator:
        slo = availability_slo(namespace)
        apply(
            cluster,
            slo,
            change_rollout(namespace, steps=[{"weight": 50, "pause": "1h"}]),
        )
        eventually(
            lambda: ready_condition(
                read_status(cluster, "slo", namespace, slo["metadata"]["name"])
            ),
            bool,
            "the SLO evaluated",
        )
        slo["spec"]["target"] = 99.5  # rules are rewritten: an update of the ConfigMap
        apply(cluster, slo)
        eventually(phase, lambda s: "stable" in s, "the ChangeRollout adopted")

        set_image(cluster, namespace, "1.2")
        eventually(phase, lambda s: s.get("phase") == "Progressing", "a canary of 1.2")
        set_image(cluster, namespace, "1.3")  # replaces the canary mid-step
        eventually(
            phase,
            lambda s: s.get("phase") == "Progressing" and "1.3" in json.dumps(s.get("current", {})),
            "the canary replaced by 1.3",
        )
        # The status is written before the tick acts: wait for the 1.3 canary itself, so the
        # scale below updates it rather than sizing a canary not yet created.
        eventually(
            lambda: _canary_image(apps, namespace),
            lambda image: image == "shop/checkout:1.3",
            "the 1.3 canary Deployment",
        )
        # More replicas for the target: the canary keeps its weight, so it is updated.
        cluster.kubectl("scale", "deployment/checkout", "-n", namespace, "--replicas=4")
        eventually(
            lambda: _replicas(apps, namespace, "checkout-canary"),
            lambda replicas: replicas == 2,
            "the canary scaled with its target",
        )
        _rollout_cli(cluster.kubeconfig, "promote", "checkout", "-n", namespace, "--force",
                     "--reason", "rbac test")  # fmt: skip
        eventually(phase, lambda s: s.get("phase") == "Succeeded", "1.3 promoted", timeout=90)
        set_image(cluster, namespace, "1.4")
        eventually(phase, lambda s: s.get("phase") == "Progressing", "a canary of 1.4")
        # A hand resume: the 1.4 pods it starts in the target's own ReplicaSet are scaled away
        # (ReplicaSet patch) ...
        cluster.kubectl("rollout", "resume", "deployment/checkout", "-n", namespace)
        eventually(
            lambda: _target_images(cluster, namespace),
            lambda images: images == ["shop/checkout:1.3"] * 4,
            "the target back on 4 pods of 1.3",
        )
        # ... and with the operator frozen until every pod is 1.4, the 1.4 ReplicaSet is deleted
        # for the stable one (ReplicaSet delete). Frozen once it has paused the target again (on a
        # busy machine the pods can be back on 1.3 before the pause lands).
        eventually(
            lambda: apps.read_namespaced_deployment("checkout", namespace).spec.paused,
            bool,
            "the target paused again",
        )
        os.kill(operator.process.pid, signal.SIGSTOP)
        try:
            cluster.kubectl("rollout", "resume", "deployment/checkout", "-n", namespace)
            eventually(
                lambda: _target_images(cluster, namespace),
                lambda images: images == ["shop/checkout:1.4"] * 4,
                "every pod on 1.4 while the operator is frozen",
            )
        finally:
            os.kill(operator.process.pid, signal.SIGCONT)
        eventually(
            lambda: _target_images(cluster, namespace),
            lambda images: images == ["shop/checkout:1.3"] * 4,
            "the target back on 4 pods of 1.3 after the takeover",
            timeout=90,
        )
        _rollout_cli(cluster.kubeconfig, "abort", "checkout", "-n", namespace,
                     "--reason", "rbac test")  # fmt: skip
        eventually(phase, lambda s: s.get("phase") == "RolledBack", "1.4 rolled back")
        cluster.kubectl("delete", "crollout", "checkout", "-n", namespace, "--timeout=60s")
        assert operator.process.poll() is None, "the operator exited"

    calls = audited_calls(cluster, OPERATOR_USER)
    refused = sorted(
        {permission(e) for e in calls if e.get("responseStatus", {}).get("code") == 403}
    )
    assert not refused, f"the chart's RBAC refused the operator: {refused}"
    used = {permission(e) for e in calls}
    grants = granted(rendered(toolchain, "replicaCount=2"))
    print("used:", *sorted(used), sep="\n  ")
    assert used <= grants
    # The ClusterRole lets it write workloads everywhere; it wrote them where it serves only.
    written = {
        (event["objectRef"].get("namespace"), *permission(event))
        for event in calls
        if permission(event)[:2] in WORKLOAD_RESOURCES
        and permission(event)[2] in ADMISSION_OPERATIONS
    }
    assert {
        (namespace, "apps", "deployments", "create"),
        (namespace, "", "configmaps", "update"),
    } <= written
    assert {where for where, *_ in written} == {namespace}, sorted(written)

    unused = grants - used - set(NOT_EXERCISED_HERE)
    assert not unused, f"the chart grants what the operator never used: {sorted(unused)}"


def test_no_cluster_wide_write_on_workloads_escapes_the_operator_write_policy(
    toolchain: Toolchain,
) -> None:
    """Cluster-wide, RBAC grants Deployment, ReplicaSet and ConfigMap writes in every namespace;
    the chart's admission policies hold each of them to the operator's own objects. Serving
    listed namespaces, it writes nothing cluster-wide at all."""
    assert not unpoliced_cluster_wide_writes(rendered(toolchain), OPERATOR_USER)
    unpoliced = unpoliced_cluster_wide_writes(
        rendered(toolchain, "operatorWritePolicy.enabled=false"), OPERATOR_USER
    )
    assert {("apps", "deployments", "create"), ("", "configmaps", "update")} <= unpoliced
    listed = rendered(toolchain, "watchNamespaces={shop,payments}")
    cluster_wide = granted(listed, cluster_wide=True)
    assert cluster_wide, "the CRD discovery grant is cluster-wide"
    assert not {grant for grant in cluster_wide if grant[2] not in ("get", "list", "watch")}
    writers = {
        document["metadata"]["namespace"]
        for document in objects(listed)
        if document["kind"] == "Role"
        and any(
            (group, resource) in WORKLOAD_RESOURCES
            and set(rule["verbs"]) & set(ADMISSION_OPERATIONS)
            for rule in document["rules"]
            for group in rule["apiGroups"]
            for resource in rule["resources"]
        )
    }
    assert writers == {"shop", "payments"}


def test_the_kustomize_manifests_are_the_charts_objects_and_apply(
    toolchain: Toolchain, chart_cluster: LocalCluster
) -> None:
    stale = subprocess.run(
        [sys.executable, str(CHART.parents[1] / "manifests" / "render.py"), "--check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert stale.returncode == 0, stale.stderr
    chart_cluster.kubectl("apply", "--server-side", "-f", str(CHART.parents[1] / "crds"))
    # A dry run creates nothing, so the namespaced objects need their namespace to exist.
    chart_cluster.kubectl("create", "namespace", RELEASE_NAMESPACE, check=False)
    monitoring = CHART.parents[1] / "manifests" / "monitoring"
    dry_run = chart_cluster.kubectl(
        "apply", "-k", str(monitoring), "--dry-run=server", "-o", "name"
    )
    applied = set(dry_run.stdout.split())
    assert {
        "deployment.apps/slokeeper",
        "servicemonitor.monitoring.coreos.com/slokeeper",
        "configmap/slokeeper-dashboard",
        "clusterrole.rbac.authorization.k8s.io/slokeeper",
        "customresourcedefinition.apiextensions.k8s.io/changerollouts.slokeeper.dev",
    } <= applied


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        (
            ("prometheus.bearerToken.secretName=prom-token",),
            "SLOKEEPER_PROMETHEUS_BEARER_TOKEN_FILE",
        ),
        (
            ("prometheus.basicAuth.secretName=prom-basic",),
            "SLOKEEPER_PROMETHEUS_BASIC_AUTH_PASSWORD_FILE",
        ),
        (("prometheus.ca.configMapName=prom-ca",), "SLOKEEPER_PROMETHEUS_CA_FILE"),
    ],
    ids=["bearer-token", "basic-auth", "ca-bundle"],
)
def test_each_credential_file_the_operator_is_told_of_is_mounted_from_its_source(
    toolchain: Toolchain, values: tuple[str, ...], variable: str
) -> None:
    deployment = next(o for o in objects(rendered(toolchain, *values)) if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    path = next(e["value"] for e in container["env"] if e["name"] == variable)
    mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    source = volume.get("secret", {}).get("secretName") or volume.get("configMap", {}).get("name")
    assert source == values[0].split("=", 1)[1]
    key = path.removeprefix(mount["mountPath"] + "/")
    items = volume.get("secret", volume.get("configMap", {})).get("items")
    assert items is None or key in {item["path"] for item in items}
