"""User story: mallory, a developer who may patch ChangeRollouts (what shipping needs) and even
their status, tries to open the gates in other people's names: an override signed by carol, a
force-promote by dana, a plain approval by bob, approvals written straight into the status. The
API server refuses each (the chart's request policies), saying who she is; what she asks in her
own name goes through, and the operator's own status writes still work. People are real users
with client certificates signed by the cluster's CA."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from helm import policy_in_namespace
from identities import run_as, user_kubeconfig
from polling import eventually
from resources import adopt_checkout, availability_slo, change_rollout, phase_is, rollout_status
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator
from workloads import set_image


@pytest.fixture
def policed_namespace(toolchain: Toolchain, cluster: LocalCluster, namespace: str) -> Iterator[str]:
    """The chart's request-policy policies, bound to this test's namespace only."""
    with policy_in_namespace(toolchain, cluster, namespace, "request-policy", "requestPolicy"):
        yield namespace


def test_requests_name_who_sets_them_and_only_the_operator_writes_status(
    policed_namespace: str,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    tmp_path: Path,
) -> None:
    namespace = policed_namespace
    cluster.kubectl(
        "create", "role", "shipper", "-n", namespace, "--verb=get,list,watch,patch,update",
        "--resource=changerollouts,changerollouts/status",
    )  # fmt: skip
    cluster.kubectl(
        "create", "rolebinding", "shipper", "-n", namespace, "--role=shipper", "--user=mallory"
    )
    mallory = user_kubeconfig(cluster, "mallory", ["developers"], tmp_path / "mallory.kubeconfig")
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="High"),
    )  # fmt: skip
    set_image(cluster, namespace, "1.2")
    waiting = eventually(
        lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "the gate"
    )
    revision = waiting["current"]["revision"]["templateHash"]

    def annotate(key: str, value: str) -> subprocess.CompletedProcess[str]:
        return run_as(
            mallory, cluster, "annotate", "crollout", "checkout", "-n", namespace,
            "--overwrite", f"slokeeper.dev/{key}={value}",
        )  # fmt: skip

    forged = {
        "override": json.dumps({"by": "carol", "reason": "INC-1", "revision": revision}),
        "promote": json.dumps({"by": "dana", "force": True}),
        "approve": "bob: looks fine",
    }
    # A new policy takes a moment to be enforced: polled for with a harmless request (a retry
    # of nothing), so that no forged gate-opener is ever admitted before it is.
    eventually(
        lambda: annotate("retry", "carol"),
        lambda done: done.returncode != 0,
        "the API server to enforce the request policy",
    )
    for key, value in forged.items():
        refused = annotate(key, value)
        assert refused.returncode != 0, f"{key} in another's name was admitted"
        assert "a request must name the person who makes it: you are mallory" in refused.stderr

    approvals = {"current": {"approvals": [{"by": "bob", "at": "2026-12-01T00:00:00Z"}]}}
    written = run_as(
        mallory, cluster, "patch", "crollout", "checkout", "-n", namespace,
        "--subresource=status", "--type=merge", "-p", json.dumps({"status": approvals}),
    )  # fmt: skip
    assert written.returncode != 0
    assert "only slokeeper writes the status of ChangeRollout checkout" in written.stderr
    assert "you are mallory" in written.stderr

    # In her own name she may ask: her abort is accepted and the change stays at the gate.
    own = annotate("abort", json.dumps({"by": "mallory", "reason": "not today"}))
    assert own.returncode == 0, own.stderr
    aborted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=1),
        "mallory's own abort, with the operator still writing status",
    )
    assert aborted["history"][0]["outcome"] == "Aborted"
    assert not aborted["history"][0].get("approvals")
