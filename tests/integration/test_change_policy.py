"""User story: the platform team sets the namespace's ChangePolicy — changes count as High risk at
least, High needs the on-call engineer, and only on-call may override. mallory, who ships (she may
patch ChangeRollouts), says Medium risk and tries to make her own group on-call in the
ChangeRollout she edits (refused); the change still waits for on-call, her approval as on-call and
her override are refused by the API server, she can neither lower the risk nor loosen the gates
while the change is in flight, nor touch the policy; dana, who is on-call, approves and the change
starts. People are real users with client
certificates signed by the cluster's CA."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
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
    past_the_template_change_second,
    phase_is,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
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
