"""User story: the platform team sets the namespace's ChangePolicy — changes count as High risk at
least, High needs the on-call engineer, and only on-call may override. mallory, who ships (she may
patch ChangeRollouts), says Medium risk and tries to make her own group on-call in the
ChangeRollout she edits (refused); the change still waits for on-call, her approval as on-call and
her override are refused by the API server, a forced promotion is refused or (where its JSON
hides the word) never acted on, she can neither lower the risk nor loosen the gates
while the change is in flight, nor touch the policy; dana, who is on-call, approves and the change
starts. People are real users with client certificates signed by the cluster's CA. A freeze the
platform team puts in the policy holds a change whose ChangeRollout names none, and the policy
in slokeeper's own namespace governs every namespace without one of its own."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client

from helm import policy_in_namespace, rendered
from identities import run_as, user_kubeconfig
from polling import eventually
from resources import (
    adopt_checkout,
    apply,
    availability_slo,
    change_rollout,
    events,
    get,
    past_the_template_change_second,
    phase_is,
    rollout_status,
)
from running_operator import RunningOperator, running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator
from workloads import set_image


def change_policy(namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ChangePolicy",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {
            "minimumRisk": "High",
            "approval": {
                "requiredFor": ["High"],
                "roles": [{"name": "on-call", "groups": ["oncall"]}],
                "riskRoles": {"high": ["on-call"]},
            },
            "overrideRoles": ["on-call"],
        },
    }


@pytest.fixture
def governed_namespace(
    toolchain: Toolchain, cluster: LocalCluster, namespace: str
) -> Iterator[str]:
    """The chart's request-policy policies, bound to this test's namespace only."""
    # The approvals policies apply cluster-wide, as test_approval_roles applies them.
    approvals = rendered(toolchain, show_only="templates/approval-policy.yaml")
    cluster.kubectl("apply", "-f", "-", input_text=approvals)
    with policy_in_namespace(toolchain, cluster, namespace, "request-policy", "requestPolicy"):
        yield namespace


def test_the_policy_lives_where_the_author_of_a_change_cannot_edit_it(
    governed_namespace: str,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    tmp_path: Path,
) -> None:
    namespace = governed_namespace
    cluster.kubectl(
        "create", "rolebinding", "shippers", "--clusterrole=slokeeper-approver", "-n", namespace,
        "--group=developers", "--group=oncall",
    )  # fmt: skip
    mallory = user_kubeconfig(cluster, "mallory", ["developers"], tmp_path / "mallory.kubeconfig")
    dana = user_kubeconfig(cluster, "dana", ["oncall"], tmp_path / "dana.kubeconfig")
    apply(cluster, change_policy(namespace))
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="Medium"),
    )  # fmt: skip
    # mallory makes her own group on-call in the ChangeRollout she may edit: refused (polled: a
    # new policy takes a moment to be enforced).
    own_roles = {"approval": {"roles": [{"name": "on-call", "groups": ["developers"]}]}}
    refused_roles = eventually(
        lambda: run_as(
            mallory,
            cluster,
            "patch",
            "crollout",
            "checkout",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            json.dumps({"spec": {"gates": own_roles}}),
        ),
        lambda done: done.returncode != 0,
        "the API server to refuse roles of her own",
    )
    assert "approval roles in namespace" in refused_roles.stderr, refused_roles.stderr
    assert "are set by its ChangePolicy default" in refused_roles.stderr
    set_image(cluster, namespace, "1.2")
    waiting = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("AwaitingApproval"),
        "the change held at the policy's risk floor",
    )
    assert "waiting for on-call" in waiting["message"], waiting["message"]

    def annotate(who: Path, key: str, value: str) -> subprocess.CompletedProcess[str]:
        return run_as(
            who, cluster, "annotate", "crollout", "checkout", "-n", namespace, "--overwrite",
            f"slokeeper.dev/{key}={value}",
        )  # fmt: skip

    # The request policy takes a moment to be enforced: polled for with a harmless request.
    eventually(
        lambda: annotate(mallory, "retry", "carol"),
        lambda done: done.returncode != 0,
        "the request policy to be enforced",
    )
    as_on_call = annotate(mallory, "approve.on-call", "mallory: I am on-call now")
    assert as_on_call.returncode != 0
    assert "mallory (groups: developers, system:authenticated) may not approve as on-call" in (
        as_on_call.stderr
    )
    assert "not a member of that role in the namespace's ChangePolicy default" in as_on_call.stderr
    revision = waiting["current"]["revision"]["templateHash"]
    override = json.dumps({"by": "mallory", "reason": "ship it", "revision": revision})
    overridden = annotate(mallory, "override", override)
    assert overridden.returncode != 0
    assert "only on-call do that" in overridden.stderr, overridden.stderr
    # A forced promotion, however JSON spells "force": refused where the text says force, and
    # never acted on where it hides it (the operator reads force only as slokeeper writes it).
    for spelled in ('"force" :true', '"force":\ttrue', '"force":true'):
        forced = annotate(mallory, "promote", f'{{"by":"mallory",{spelled}}}')
        assert forced.returncode != 0, spelled
        assert "may not override the gates or force a promotion" in forced.stderr
    hidden = '{"by": "mallory", "\\u0066orce": true}'
    admitted = annotate(mallory, "promote", hidden)
    assert admitted.returncode == 0, admitted.stderr
    refused = eventually(
        lambda: [
            e["message"]
            for e in events(cluster, namespace, "ChangeRollout")
            if e["reason"] == "RequestRefused"
        ],
        bool,
        "the operator to refuse the promotion that hides its force",
    )
    assert "slokeeper.dev/promote=" in refused[0]
    assert "was not acted on: it is not written as slokeeper rollout writes it" in refused[0]
    eventually(
        lambda: get(cluster, "crollout", namespace, "checkout")["metadata"].get("annotations", {}),
        lambda found: "slokeeper.dev/promote" not in found,
        "the refused promotion removed",
    )
    assert rollout_status(cluster, namespace)["phase"] == "AwaitingApproval"

    lowered = run_as(
        mallory, cluster, "patch", "crollout", "checkout", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"risk": "Low"}}),
    )  # fmt: skip
    assert lowered.returncode != 0
    assert "a change is in flight (AwaitingApproval): lowering spec.risk" in lowered.stderr
    loosen = json.dumps({"spec": {"gates": {"approval": {"requiredFor": []}}}})
    loosened = run_as(
        mallory, cluster, "patch", "crollout", "checkout", "-n", namespace, "--type=merge",
        "-p", loosen,
    )  # fmt: skip
    assert loosened.returncode != 0
    assert "a change is in flight (AwaitingApproval)" in loosened.stderr, loosened.stderr
    rewritten = run_as(
        mallory, cluster, "patch", "changepolicy", "default", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"minimumRisk": "Low"}}),
    )  # fmt: skip
    assert rewritten.returncode != 0
    assert "forbidden" in rewritten.stderr.lower(), rewritten.stderr

    past_the_template_change_second(cluster, namespace)
    approved = annotate(dana, "approve.on-call", "dana: paged in, looks fine")
    assert approved.returncode == 0, approved.stderr
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Progressing"),
        "the change started on dana's approval",
    )
    assert [(a["by"], a["role"]) for a in started["current"]["approvals"]] == [("dana", "on-call")]


def test_a_freeze_in_the_policy_holds_a_change_whose_rollout_has_none(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """The platform team freezes the namespace for a launch in its ChangePolicy: a change whose
    ChangeRollout names no freeze is held, the message naming the policy; lifted, it starts."""
    now = datetime.now(UTC)
    freeze = {
        "start": f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
        "end": f"{now + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
        "reason": "launch week",
    }
    policy = {**change_policy(namespace), "spec": {"freezes": [freeze]}}
    apply(cluster, policy)
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace), change_rollout(namespace)
    )
    set_image(cluster, namespace, "1.2")
    held = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Blocked"),
        "the change held by the policy's freeze",
    )
    assert f"(ChangePolicy {namespace}/default: launch week)" in held["message"], held["message"]
    assert (
        not get(cluster, "crollout", namespace, "checkout")["spec"].get("gates", {}).get("freezes")
    )
    assert not get(cluster, "deployment", namespace, "checkout-canary")

    cluster.kubectl(
        "patch", "changepolicy", "default", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"freezes": []}}),
    )  # fmt: skip
    eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Progressing"),
        "the change started once the policy's freeze was lifted",
        timeout=90,  # a held change is looked at again every 30 s (GATE_RECHECK_SECONDS)
    )


@pytest.fixture
def tenant_namespaces(cluster: LocalCluster, solo_namespace: str) -> Iterator[tuple[str, str]]:
    """Two namespaces beside the operator's own (``solo_namespace``) that its patterns serve:
    one without a ChangePolicy, one with its own."""
    made = (f"{solo_namespace}-shop", f"{solo_namespace}-own")
    for name in made:
        cluster.kubectl("create", "namespace", name)
    try:
        yield made
    finally:
        for name in made:
            cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_the_operator_namespace_s_default_policy_governs_namespaces_without_their_own(
    toolchain: Toolchain,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    crds_installed: Path,
    solo_namespace: str,
    tenant_namespaces: tuple[str, str],
    tmp_path: Path,
) -> None:
    """The platform team keeps one ChangePolicy `default` in slokeeper's namespace. In a tenant's
    namespace without a policy, a High-risk change waits for on-call and the API server refuses
    mallory's approval of it as on-call (it reads the copy slokeeper keeps there); a namespace
    with its own policy keeps it; once the default goes, so does the copy."""
    own_namespace, (shop, own) = solo_namespace, tenant_namespaces
    approvals = rendered(toolchain, show_only="templates/approval-policy.yaml")
    cluster.kubectl("apply", "-f", "-", input_text=approvals)
    cluster.kubectl(
        "create", "rolebinding", "shippers", "--clusterrole=slokeeper-approver", "-n", shop,
        "--group=developers",
    )  # fmt: skip
    mallory = user_kubeconfig(cluster, "mallory", ["developers"], tmp_path / "mallory.kubeconfig")
    default = change_policy(own_namespace)
    apply(cluster, default)
    lenient = {**change_policy(own), "spec": {"approval": {"requiredFor": []}}}
    apply(cluster, lenient)
    stored = get(cluster, "changepolicy", own, "default")
    with running_operator(
        cluster.kubeconfig, prometheus.url, tmp_path / "operator.log",
        namespaces=(f"{own_namespace}*",), env={"POD_NAMESPACE": own_namespace},
    ):  # fmt: skip
        for namespace in (shop, own):
            adopt_checkout(
                cluster, api_client, namespace, availability_slo(namespace),
                change_rollout(namespace, risk="High"),
            )  # fmt: skip
            set_image(cluster, namespace, "1.2")
        held = eventually(
            lambda: rollout_status(cluster, shop),
            phase_is("AwaitingApproval"),
            "the change held by the default policy",
        )
        assert "waiting for on-call" in held["message"], held["message"]
        copy = get(cluster, "changepolicy", shop, "default")
        assert copy["metadata"]["labels"] == {"slokeeper.dev/copied-from": own_namespace}
        assert copy["spec"] == get(cluster, "changepolicy", own_namespace, "default")["spec"]
        approve = (
            "annotate", "crollout", "checkout", "-n", shop, "--overwrite",
            "slokeeper.dev/approve.on-call=mallory: I am on-call now",
        )  # fmt: skip
        self_approval = eventually(
            lambda: run_as(mallory, cluster, *approve),
            lambda done: done.returncode != 0,
            "the API server to refuse her approval as on-call",
        )
        assert "not a member of that role in the namespace's ChangePolicy default" in (
            self_approval.stderr
        )
        eventually(
            lambda: rollout_status(cluster, own),
            phase_is("Progressing"),
            "the namespace with its own policy keeping it (no approval needed)",
        )
        kept = get(cluster, "changepolicy", own, "default")
        assert "labels" not in kept["metadata"]
        assert kept["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]

        cluster.kubectl("delete", "changepolicy", "default", "-n", own_namespace)
        eventually(
            lambda: get(cluster, "changepolicy", shop, "default"),
            lambda found: not found,
            "the copy deleted once the default went",
            timeout=90,  # a held change is looked at again every 30 s (GATE_RECHECK_SECONDS)
        )
