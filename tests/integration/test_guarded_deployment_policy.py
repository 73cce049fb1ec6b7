"""User story: a developer with every right on Deployments in their namespace (what shipping
needs) tries to push a held change past its ChangeRollout with `kubectl rollout resume`, a patch
of spec.paused or by taking slokeeper's mark off. The API server refuses each (the chart's
ValidatingAdmissionPolicy), saying what to type instead; shipping by editing the template still
works, the operator still promotes, and once the ChangeRollout is deleted the Deployment is
theirs again. People are real users with client certificates signed by the cluster's CA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from helm import policy_in_namespace
from identities import run_as, user_kubeconfig
from polling import eventually
from resources import (
    adopt_checkout,
    ask,
    availability_slo,
    change_rollout,
    get,
    phase_is,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator
from workloads import ready_images


@pytest.fixture
def guarded_namespace(toolchain: Toolchain, cluster: LocalCluster, namespace: str) -> Iterator[str]:
    """The chart's guarded-deployment-policy policies, bound to this test's namespace only."""
    with policy_in_namespace(
        toolchain, cluster, namespace, "guarded-deployment-policy", "guardedDeploymentPolicy"
    ):
        yield namespace


def test_only_the_operator_resumes_a_guarded_deployment(
    guarded_namespace: str,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    tmp_path: Path,
) -> None:
    namespace = guarded_namespace
    core = client.CoreV1Api(api_client)
    cluster.kubectl(
        "create", "role", "shipper", "-n", namespace, "--verb=get,list,watch,patch,update",
        "--resource=deployments",
    )  # fmt: skip
    cluster.kubectl(
        "create", "rolebinding", "shipper", "-n", namespace, "--role=shipper", "--user=mallory"
    )
    mallory = user_kubeconfig(cluster, "mallory", ["developers"], tmp_path / "mallory.kubeconfig")
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, steps=[{"weight": 25, "pause": "10m"}]),
    )
    eventually(
        lambda: get(cluster, "deployment", namespace, "checkout")["metadata"]["annotations"],
        lambda a: a.get("slokeeper.dev/guarded-by") == "checkout",
        "the guard mark on the Deployment",
    )

    # Shipping is editing the template: allowed, and it starts a canary.
    shipped = run_as(
        mallory, cluster, "set", "image", "deployment/checkout",
        "checkout=shop/checkout:1.2", "-n", namespace,
    )  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr
    eventually(lambda: rollout_status(cluster, namespace), phase_is("Progressing"), "the canary")

    # A new policy takes a moment to be enforced: the refusal is polled for.
    resume = ("rollout", "resume", "deployment/checkout", "-n", namespace)
    refused = eventually(
        lambda: run_as(mallory, cluster, *resume),
        lambda done: done.returncode != 0 and "guarded by ChangeRollout" in done.stderr,
        "the API server to refuse mallory's resume",
    )
    assert "only slokeeper resumes it" in refused.stderr
    assert f"slokeeper rollout promote --full checkout -n {namespace}" in refused.stderr
    assert f"slokeeper rollout undo checkout -n {namespace}" in refused.stderr

    unpause = json.dumps({"spec": {"paused": False}})
    patched = run_as(
        mallory, cluster, "patch", "deployment", "checkout", "-n", namespace, "-p", unpause
    )
    assert patched.returncode != 0
    assert "guarded by ChangeRollout checkout" in patched.stderr
    unmarked = run_as(
        mallory, cluster, "annotate", "deployment", "checkout", "-n", namespace,
        "slokeeper.dev/guarded-by-",
    )  # fmt: skip
    assert unmarked.returncode != 0
    assert "the slokeeper.dev/guarded-by annotation is slokeeper's" in unmarked.stderr
    # Both at once, taking the mark off in the same request: refused all the same.
    both = json.dumps(
        {"metadata": {"annotations": {"slokeeper.dev/guarded-by": None}}, "spec": {"paused": False}}
    )
    sneaked = run_as(
        mallory, cluster, "patch", "deployment", "checkout", "-n", namespace, "-p", both
    )
    assert sneaked.returncode != 0
    assert get(cluster, "deployment", namespace, "checkout")["spec"]["paused"] is True

    # The operator still resumes it to promote.
    ask(cluster, namespace, "promote", by="alice")
    eventually(
        lambda: rollout_status(cluster, namespace), phase_is("Succeeded", changes=1), "promotion"
    )
    eventually(
        lambda: ready_images(core, namespace),
        lambda images: images == ["shop/checkout:1.2"] * 4,
        "4 pods of 1.2",
    )

    # No ChangeRollout, no guard: the Deployment is mallory's to pause and resume again.
    cluster.kubectl("delete", "crollout", "checkout", "-n", namespace)
    eventually(
        lambda: get(cluster, "deployment", namespace, "checkout")["metadata"].get("annotations"),
        lambda a: "slokeeper.dev/guarded-by" not in (a or {}),
        "the guard mark gone with the ChangeRollout",
    )
    for command in ("pause", "resume"):
        done = run_as(mallory, cluster, "rollout", command, "deployment/checkout", "-n", namespace)
        assert done.returncode == 0, done.stderr
