"""User story: the canary slokeeper runs beside a paused Deployment shares its Service labels but
not its pods — the real Deployment and ReplicaSet controllers keep the two apart — and the
target's spec is never edited."""

from __future__ import annotations

import json

from kubernetes import client

from polling import eventually
from slokeeper.api.references import ObjectRef
from slokeeper.kube.canary import canary_deployment
from slokeeper.localcluster.cluster import LocalCluster
from workloads import deploy_ready, ready_replicas


def test_a_canary_beside_a_paused_target(
    cluster: LocalCluster, api_client: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    apps.patch_namespaced_deployment("checkout", namespace, {"spec": {"paused": True}})
    target = json.loads(
        cluster.kubectl("get", "deployment", "checkout", "-n", namespace, "-o", "json").stdout
    )
    candidate = json.loads(json.dumps(target["spec"]["template"]))
    candidate["spec"]["containers"][0]["image"] = "shop/checkout:1.2"
    # Owned by the target here only to have a real owner; the operator uses the ChangeRollout.
    owner = ObjectRef("Deployment", namespace, "checkout", target["metadata"]["uid"], "apps/v1")
    canary = canary_deployment(target, candidate, 1, owner)
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=json.dumps(canary))

    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == 1,
        "the canary pod",
    )
    pods = core.list_namespaced_pod(namespace, label_selector="app=checkout").items
    images = sorted(pod.spec.containers[0].image for pod in pods)
    # The Service's selector (app=checkout) sees 4 stable pods and the canary: 1/5 = 20 %.
    assert images == ["shop/checkout:1.1"] * 4 + ["shop/checkout:1.2"]
    after = json.loads(
        cluster.kubectl("get", "deployment", "checkout", "-n", namespace, "-o", "json").stdout
    )
    assert after["spec"] == target["spec"], "the target's spec was edited"
    assert after["status"]["replicas"] == 4, "the target counted the canary's pod"

    cluster.kubectl("delete", "deployment", "checkout-canary", "-n", namespace)
    eventually(
        lambda: sorted(
            p.spec.containers[0].image
            for p in core.list_namespaced_pod(namespace, label_selector="app=checkout").items
            if p.metadata.deletion_timestamp is None
        ),
        lambda seen: seen == ["shop/checkout:1.1"] * 4,
        "the canary's pod to go, and only it",
    )
