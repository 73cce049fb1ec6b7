"""User story: a security engineer asks what a stolen slokeeper token can do. Installed
cluster-wide, its ClusterRole lets it write Deployments, ReplicaSets and ConfigMaps in every
namespace (RBAC cannot say "only your canaries"); the chart's admission policies hold it to the
writes the operator's code makes. So the operator still adopts, canaries, promotes, rolls back and
writes SLO rules, while the same token, used by hand, cannot run a Deployment in kube-system,
rewrite a pod template, or edit a ConfigMap it did not make.

The chart goes onto a cluster of its own whose API server audits the ServiceAccount; the operator
runs as a process with the ServiceAccount's token (no kubelet here runs its image)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from helm import (
    ADMISSION_OPERATIONS,
    CHART,
    WORKLOAD_RESOURCES,
    audit_policy,
    audited_calls,
    helm,
    operator_user,
    permission,
)
from kubeconfigs import service_account_kubeconfig
from polling import eventually
from resources import (
    apply,
    availability_slo,
    change_rollout,
    get,
    read_status,
    ready_condition,
)
from running_operator import running_operator
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from workloads import checkout_deployment, deploy_ready, set_image

RELEASE_NAMESPACE = "slokeeper-system"
OPERATOR_USER = operator_user(RELEASE_NAMESPACE)
NAMESPACE = "shop"
ADMIN = "kwok-admin"  # who the cluster's admin kubeconfig is
HIJACKED = ".:53 { forward . 6.6.6.6 }"  # every name resolved by someone else
BY_HAND = "policy-test"  # the user agent of this test's own calls with the operator's token
POLICIES = ("slokeeper-operator-deployments", "slokeeper-operator-replicasets",
            "slokeeper-operator-rules")  # fmt: skip


@pytest.fixture(scope="module")
def installed(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LocalCluster, Path]]:
    """An audited cluster with the chart installed on its defaults (cluster-wide); a kubeconfig
    with the operator's ServiceAccount token."""
    workdir = tmp_path_factory.mktemp("write-policy")
    cluster = LocalCluster(
        toolchain, workdir / "cluster", nodes=1, audit_policy=audit_policy(OPERATOR_USER)
    )
    with cluster:
        helm(
            toolchain, "upgrade", "--install", "slokeeper", str(CHART),
            "--namespace", RELEASE_NAMESPACE, "--create-namespace", "--wait", "--timeout", "2m",
            # Break glass for the cluster admin: the test resumes a guarded target by hand.
            "--set", f"guardedDeploymentPolicy.exemptUsers={{{ADMIN}}}",
            kubeconfig=cluster.kubeconfig,
        )  # fmt: skip
        cluster.kubectl("create", "namespace", NAMESPACE)
        yield (
            cluster,
            service_account_kubeconfig(
                cluster, RELEASE_NAMESPACE, "slokeeper", workdir / "operator.kubeconfig"
            ),
        )


def as_operator(
    cluster: LocalCluster, kubeconfig: Path, *args: str, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """kubectl with the operator's own token."""
    return subprocess.run(
        [str(cluster.toolchain.kubectl), "--kubeconfig", str(kubeconfig), *args],
        input=input_text, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def refused(finished: subprocess.CompletedProcess[str], policy: str, message: str) -> str:
    """The API server's refusal, which must come from ``policy`` and say ``message``."""
    assert finished.returncode != 0, f"allowed: {finished.stdout}"
    said = finished.stderr.strip()
    assert f"ValidatingAdmissionPolicy '{policy}'" in said, said
    assert message in said, said
    return said


def allowed(finished: subprocess.CompletedProcess[str]) -> None:
    assert finished.returncode == 0, finished.stderr


def test_policies_compile_against_the_types_they_check(
    installed: tuple[LocalCluster, Path],
) -> None:
    cluster, _ = installed

    def warnings() -> dict[str, Any]:
        found = json.loads(
            cluster.kubectl("get", "validatingadmissionpolicy", *POLICIES, "-o", "json").stdout
        )
        return {
            policy["metadata"]["name"]: policy.get("status", {}).get("typeChecking")
            for policy in found["items"]
        }

    checked = eventually(
        warnings, lambda found: all(v is not None for v in found.values()), "type checking"
    )
    assert set(checked) == set(POLICIES)
    assert all(not v.get("expressionWarnings") for v in checked.values()), checked


def test_the_operator_rolls_out_and_writes_rules_under_its_write_policy(
    installed: tuple[LocalCluster, Path], prometheus: PrometheusServer, tmp_path: Path
) -> None:
    cluster, kubeconfig = installed
    apps = client.AppsV1Api(api_client(str(cluster.kubeconfig)))
    deploy_ready(cluster, apps, NAMESPACE, 2, "shop/checkout:1.1")

    def phase() -> dict[str, Any]:
        return read_status(cluster, "crollout", NAMESPACE, "checkout")

    def run() -> Any:
        return running_operator(kubeconfig, prometheus.url, tmp_path / "operator.log")

    with run() as operator:
        slo = availability_slo(NAMESPACE)
        apply(cluster, slo, change_rollout(NAMESPACE, steps=[{"weight": 50, "pause": "1h"}]))
        eventually(
            lambda: ready_condition(
                read_status(cluster, "slo", NAMESPACE, "checkout-availability")
            ),
            bool,
            "the SLO evaluated",
        )
        slo["spec"]["target"] = 99.5  # its rules ConfigMap is replaced
        apply(cluster, slo)
        eventually(
            lambda: get(cluster, "configmap", NAMESPACE, "checkout-availability-slo"),
            lambda found: "99.5" in json.dumps(found.get("data", {})),
            "the rules rewritten for 99.5 %",
        )
        eventually(phase, lambda s: "stable" in s, "the target adopted (paused, marked)")
        set_image(cluster, NAMESPACE, "1.2")
        eventually(phase, lambda s: s.get("phase") == "Progressing", "a canary of 1.2")
        eventually(  # the status is written first, then the tick acts
            lambda: get(cluster, "deployment", NAMESPACE, "checkout-canary"), bool, "the canary"
        )
        assert operator.process.poll() is None, "the operator exited"

    # Break glass while the operator is down: the target resumed by hand rolls 1.2 out in its
    # own ReplicaSets. Back, the operator pauses it and takes those pods away again.
    cluster.kubectl("rollout", "resume", "deployment/checkout", "-n", NAMESPACE)
    eventually(lambda: _target_replicas(cluster, "1.2"), lambda n: n > 0, "1.2 pods in the target")
    with run() as operator:
        eventually(
            lambda: _target_replicas(cluster, "1.2"), lambda n: n == 0, "1.2 taken out again"
        )
        _rollout_cli(cluster, "promote", "--force", "--reason", "policy test")
        eventually(phase, lambda s: s.get("phase") == "Succeeded", "1.2 promoted", timeout=90)
        set_image(cluster, NAMESPACE, "1.3")
        eventually(phase, lambda s: s.get("phase") == "Progressing", "a canary of 1.3")
        _rollout_cli(cluster, "abort", "--reason", "policy test")
        eventually(phase, lambda s: s.get("phase") == "RolledBack", "1.3 rolled back")
        eventually(
            lambda: get(cluster, "deployment", NAMESPACE, "checkout-canary"),
            lambda found: not found,
            "the canary removed",
        )
        cluster.kubectl("delete", "crollout", "checkout", "-n", NAMESPACE, "--timeout=60s")
        target = get(cluster, "deployment", NAMESPACE, "checkout")
        assert "slokeeper.dev/guarded-by" not in target["metadata"].get("annotations", {})
        assert operator.process.poll() is None, "the operator exited"

    calls = [e for e in audited_calls(cluster, OPERATOR_USER) if not _by_hand(e)]
    denied = sorted(
        {permission(e) for e in calls if e.get("responseStatus", {}).get("code") == 403}
    )
    assert not denied, f"refused the operator: {denied}"
    written = {
        (event["objectRef"].get("namespace"), *permission(event))
        for event in calls
        if permission(event)[:2] in WORKLOAD_RESOURCES
        and permission(event)[2] in ADMISSION_OPERATIONS
    }
    # Pause, mark, canary created, replaced or deleted, rules created and replaced: all in shop.
    assert {(NAMESPACE, "apps", "deployments", verb) for verb in ("create", "patch", "delete")} | {
        (NAMESPACE, "", "configmaps", verb) for verb in ("create", "update")
    } <= written
    assert {where for where, *_ in written} == {NAMESPACE}, sorted(written)


def _by_hand(event: dict[str, Any]) -> bool:
    """A call this test made with the operator's token, not the operator."""
    agent: str = event["userAgent"]
    return agent.startswith(("kubectl", BY_HAND))


def _rollout_cli(cluster: LocalCluster, *args: str) -> None:
    """`slokeeper rollout <args> checkout`, as the cluster admin."""
    subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", args[0], "checkout", *args[1:],
         "-n", NAMESPACE, "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip


def _target_replicas(cluster: LocalCluster, version: str) -> int:
    """Pods of checkout ``version`` the target's own ReplicaSets are asked for."""
    listed = json.loads(
        cluster.kubectl(
            "get", "rs", "-n", NAMESPACE, "-l", "variant=stable,!slokeeper.dev/track",
            "-o", "json",
        ).stdout
    )  # fmt: skip
    return sum(
        rs["spec"]["replicas"]
        for rs in listed["items"]
        if rs["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{version}")
    )


def _deployment(name: str, namespace: str, **metadata: Any) -> str:
    body = yaml.safe_load(checkout_deployment(name, 1, "registry.example/anything:1", name))
    body["metadata"].update(namespace=namespace, **metadata)
    return yaml.safe_dump(body)


def test_the_operators_token_is_refused_everything_else(
    installed: tuple[LocalCluster, Path],
) -> None:
    cluster, kubeconfig = installed
    # RBAC alone would let it: the refusals below are the policies'.
    can_i = as_operator(cluster, kubeconfig, "auth", "can-i", "create", "deployments",
                        "-n", "kube-system")  # fmt: skip
    assert can_i.stdout.strip() == "yes"

    rollout_uid = "6c1b3e0a-0000-4000-8000-000000000001"
    canary_metadata = {
        "labels": {"app": "checkout", "slokeeper.dev/track": "canary"},
        "ownerReferences": [{"apiVersion": "slokeeper.dev/v1alpha1", "kind": "ChangeRollout",
                             "name": "coredns", "uid": rollout_uid}],
    }  # fmt: skip

    def canary_shaped(name: str, namespace: str) -> str:
        body = yaml.safe_load(_deployment(name, namespace, **canary_metadata))
        for labels in (body["spec"]["selector"]["matchLabels"],
                       body["spec"]["template"]["metadata"]["labels"]):  # fmt: skip
            labels["slokeeper.dev/track"] = "canary"
        return yaml.safe_dump(body)

    deployments = "slokeeper-operator-deployments"
    # A canary in every other respect, in kube-system: never.
    said = refused(
        as_operator(cluster, kubeconfig, "create", "-f", "-",
                    input_text=canary_shaped("coredns-canary", "kube-system")),
        deployments, "slokeeper never writes Deployments in namespace kube-system",
    )  # fmt: skip
    print("kube-system:", said)
    # The same in a served namespace passes (dry run): the policy lets the operator do its work.
    allowed(
        as_operator(cluster, kubeconfig, "create", "--dry-run=server", "-f", "-",
                    input_text=canary_shaped("checkout-canary", NAMESPACE))
    )  # fmt: skip
    # Anything that is not a canary: refused.
    refused(
        as_operator(cluster, kubeconfig, "create", "-f", "-",
                    input_text=_deployment("miner", NAMESPACE)),
        deployments, "slokeeper creates only canary Deployments",
    )  # fmt: skip

    # Another team's Deployment: its pod template, labels and owners are not the operator's to
    # change, nor is it to be deleted (even named like a canary); only spec.paused moves.
    cluster.kubectl("apply", "-f", "-", input_text=_deployment("inventory", NAMESPACE))
    cluster.kubectl("apply", "-f", "-", input_text=_deployment("search-canary", NAMESPACE))
    said = refused(
        as_operator(cluster, kubeconfig, "set", "image", "deployment/inventory",
                    "checkout=registry.example/miner:1", "-n", NAMESPACE),
        deployments, "slokeeper changes only spec.paused of a Deployment it guards",
    )  # fmt: skip
    print("template:", said)
    refused(
        as_operator(cluster, kubeconfig, "label", "deployment/inventory", "team=mallory",
                    "-n", NAMESPACE),
        deployments, "the labels, owners and other annotations of inventory",
    )  # fmt: skip
    refused(
        as_operator(cluster, kubeconfig, "delete", "deployment/search-canary", "-n", NAMESPACE),
        deployments, "slokeeper deletes only the canary Deployments of its ChangeRollouts",
    )  # fmt: skip
    allowed(
        as_operator(cluster, kubeconfig, "patch", "deployment/inventory", "-n", NAMESPACE,
                    "--dry-run=server", "-p", '{"spec": {"paused": true}}')
    )  # fmt: skip
    template = get(cluster, "deployment", NAMESPACE, "inventory")["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "registry.example/anything:1"

    # Its ReplicaSets: scaled to 0 at most, never given another template.
    replica_set = eventually(
        lambda: json.loads(
            cluster.kubectl(
                "get", "rs", "-n", NAMESPACE, "-l", "variant=inventory", "-o", "json"
            ).stdout
        )["items"],
        bool,
        "inventory's ReplicaSet",
    )[0]["metadata"]["name"]
    # kubectl patch reads first, which the token may not (it lists ReplicaSets only): the API.
    token_apps = client.AppsV1Api(api_client(str(kubeconfig)))
    token_apps.api_client.user_agent = BY_HAND
    with pytest.raises(ApiException) as refusal:
        token_apps.patch_namespaced_replica_set(
            replica_set, NAMESPACE, {"spec": {"template": {"metadata": {"labels": {"x": "y"}}}}}
        )
    said = json.loads(str(refusal.value.body))["message"]
    assert refusal.value.status == 403
    assert "ValidatingAdmissionPolicy 'slokeeper-operator-replicasets'" in said
    assert f"slokeeper only scales ReplicaSet {replica_set} to 0" in said
    token_apps.patch_namespaced_replica_set(
        replica_set, NAMESPACE, {"spec": {"replicas": 0}}, dry_run="All"
    )

    # ConfigMaps: coredns is nobody's to edit, and a ConfigMap named like a rules object but not
    # made by slokeeper is left alone (the operator would otherwise replace it).
    rules = "slokeeper-operator-rules"
    cluster.kubectl("create", "configmap", "coredns", "-n", "kube-system",
                    "--from-literal=Corefile=.:53 {}")  # fmt: skip

    def edited(namespace: str, name: str, **data: str) -> str:
        """The ConfigMap as it is, with ``data`` changed: for ``kubectl replace`` (an update,
        what the operator's role grants; it may not patch)."""
        body = get(cluster, "configmap", namespace, name)
        body["data"].update(data)
        return json.dumps(body)

    said = refused(
        as_operator(cluster, kubeconfig, "replace", "-f", "-",
                    input_text=edited("kube-system", "coredns", Corefile=HIJACKED)),
        rules, "slokeeper never writes ConfigMaps in namespace kube-system",
    )  # fmt: skip
    print("coredns:", said)
    cluster.kubectl("create", "configmap", "search-latency-slo", "-n", NAMESPACE,
                    "--from-literal=owner=search-team")  # fmt: skip
    said = refused(
        as_operator(cluster, kubeconfig, "replace", "-f", "-",
                    input_text=edited(NAMESPACE, "search-latency-slo", owner="mallory")),
        rules, "ConfigMap search-latency-slo holds no rules of slokeeper",
    )  # fmt: skip
    print("unlabelled ConfigMap:", said)
    refused(
        as_operator(cluster, kubeconfig, "create", "configmap", "payload", "-n", NAMESPACE,
                    "--from-literal=x=y"),
        rules, "slokeeper writes only ConfigMaps of SLO rules",
    )  # fmt: skip
    assert get(cluster, "configmap", NAMESPACE, "search-latency-slo")["data"] == {
        "owner": "search-team"
    }
    assert get(cluster, "configmap", "kube-system", "coredns")["data"]["Corefile"] == ".:53 {}"

    # The audit log says the same: every write of the token by hand refused, none outside shop
    # let through.
    by_hand = [e for e in audited_calls(cluster, OPERATOR_USER) if _by_hand(e)]
    let_through = {
        (event["objectRef"].get("namespace"), *permission(event))
        for event in by_hand
        if permission(event)[:2] in WORKLOAD_RESOURCES
        and permission(event)[2] in ADMISSION_OPERATIONS
        and event.get("responseStatus", {}).get("code", 200) < 400
        and "dryRun" not in event.get("requestURI", "")
    }
    assert not let_through, sorted(let_through)
    refusals = {
        event["objectRef"].get("namespace")
        for event in by_hand
        if event.get("responseStatus", {}).get("code") == 403
    }
    assert refusals == {"kube-system", NAMESPACE}
