"""User story: mallory, a developer who may patch ChangeRollouts (what shipping needs) and even
their status, tries to open the gates in other people's names: an override signed by carol, a
force-promote by dana, a plain approval by bob, approvals written straight into the status. The
API server refuses each (the chart's request policies), saying who she is; what she asks in her
own name goes through, and the operator's own status writes still work. A request whose JSON
says more than the API server reads at its start (carol's name in a second "by") is admitted
as hers but never acted on: the operator says why in an Event. People are real users with
client certificates signed by the cluster's CA."""

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
from resources import (
    adopt_checkout,
    availability_slo,
    change_rollout,
    events,
    get,
    phase_is,
    rollout_status,
)
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


def shipper(cluster: LocalCluster, namespace: str, directory: Path) -> Path:
    """mallory's kubeconfig: she may patch ChangeRollouts and their status here."""
    cluster.kubectl(
        "create", "role", "shipper", "-n", namespace, "--verb=get,list,watch,patch,update",
        "--resource=changerollouts,changerollouts/status",
    )  # fmt: skip
    cluster.kubectl(
        "create", "rolebinding", "shipper", "-n", namespace, "--role=shipper", "--user=mallory"
    )
    return user_kubeconfig(cluster, "mallory", ["developers"], directory / "mallory.kubeconfig")


def test_requests_name_who_sets_them_and_only_the_operator_writes_status(
    policed_namespace: str,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    tmp_path: Path,
) -> None:
    namespace = policed_namespace
    mallory = shipper(cluster, namespace, tmp_path)
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


def test_a_request_naming_someone_else_in_a_repeated_key_is_never_acted_on(
    policed_namespace: str,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    tmp_path: Path,
) -> None:
    """Issue 22 audit: the policy reads `{"by": "mallory"` at the start; a JSON parser keeps the
    last of two "by" keys, carol. The operator acts on JSON only as slokeeper rollout writes it."""
    namespace = policed_namespace
    mallory = shipper(cluster, namespace, tmp_path)
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

    eventually(
        lambda: annotate("retry", "carol"),
        lambda done: done.returncode != 0,
        "the API server to enforce the request policy",
    )
    forged = f'{{"by": "mallory", "by": "carol", "reason": "INC-1", "revision": "{revision}"}}'
    admitted = annotate("override", forged)
    assert admitted.returncode == 0, admitted.stderr  # the start names her: the policy admits it
    refused = eventually(
        lambda: [
            e["message"]
            for e in events(cluster, namespace, "ChangeRollout")
            if e["reason"] == "RequestRefused"
        ],
        bool,
        "the operator to refuse the override with two names",
    )
    assert (
        f"slokeeper.dev/override={forged} was not acted on: it repeats the key by" in (refused[0])
    )
    eventually(
        lambda: get(cluster, "crollout", namespace, "checkout")["metadata"].get("annotations", {}),
        lambda found: "slokeeper.dev/override" not in found,
        "the refused request removed",
    )
    after = rollout_status(cluster, namespace)
    assert after["phase"] == "AwaitingApproval"
    assert "override" not in after["current"], after["current"]
    assert "GateOverridden" not in [
        e["reason"] for e in events(cluster, namespace, "ChangeRollout")
    ]
