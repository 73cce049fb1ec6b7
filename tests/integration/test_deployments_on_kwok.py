"""User story: the mechanics slokeeper relies on hold on this control plane. A Deployment's Pods
become Ready on kwok nodes; a paused Deployment makes no new ReplicaSet when its template changes
but can still be scaled; resuming it rolls the new template out natively."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from polling import eventually


def _deployment(name: str, image: str, replicas: int) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name=name, image=image)]),
            ),
        ),
    )


def _replica_sets(apps: client.AppsV1Api, namespace: str, name: str) -> list[tuple[str, int, int]]:
    """(image, spec replicas, ready replicas) of each ReplicaSet of the Deployment."""
    listed = apps.list_namespaced_replica_set(namespace, label_selector=f"app={name}").items
    return sorted(
        (
            rs.spec.template.spec.containers[0].image,
            rs.spec.replicas or 0,
            rs.status.ready_replicas or 0,
        )
        for rs in listed
    )


def _ready(apps: client.AppsV1Api, namespace: str, name: str) -> tuple[int, int, int]:
    status: Any = apps.read_namespaced_deployment_status(name, namespace).status
    return (status.ready_replicas or 0, status.updated_replicas or 0, status.replicas or 0)


def test_a_deployment_becomes_ready_on_fake_nodes_and_pauses_as_slokeeper_needs(
    api_client: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("checkout", "shop/checkout:1.1", 3))

    eventually(lambda: _ready(apps, namespace, "checkout"), lambda s: s == (3, 3, 3), "3/3 Ready")
    nodes = {node.metadata.name for node in core.list_node().items}
    pods = core.list_namespaced_pod(namespace, label_selector="app=checkout").items
    assert len(nodes) >= 2
    assert {pod.spec.node_name for pod in pods} <= nodes
    assert all(pod.status.phase == "Running" for pod in pods)

    apps.patch_namespaced_deployment("checkout", namespace, {"spec": {"paused": True}})
    apps.patch_namespaced_deployment(
        "checkout",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "checkout", "image": "shop/checkout:1.2"}]}
                }
            }
        },
    )
    # Wait until the Deployment controller has seen the new template, then look at what it did.
    paused = eventually(
        lambda: apps.read_namespaced_deployment_status("checkout", namespace),
        lambda d: d.status.observed_generation == d.metadata.generation,
        "the controller to observe the paused template change",
    )
    progressing = {c.type: c for c in paused.status.conditions}["Progressing"]
    assert (progressing.status, progressing.reason) == ("Unknown", "DeploymentPaused")
    assert _replica_sets(apps, namespace, "checkout") == [("shop/checkout:1.1", 3, 3)]

    apps.patch_namespaced_deployment_scale("checkout", namespace, {"spec": {"replicas": 5}})
    eventually(
        lambda: _replica_sets(apps, namespace, "checkout"),
        lambda sets: sets == [("shop/checkout:1.1", 5, 5)],
        "the paused Deployment to scale its old ReplicaSet to 5 Ready",
    )

    apps.patch_namespaced_deployment("checkout", namespace, {"spec": {"paused": False}})
    eventually(
        lambda: _replica_sets(apps, namespace, "checkout"),
        lambda sets: sets == [("shop/checkout:1.1", 0, 0), ("shop/checkout:1.2", 5, 5)],
        "the resumed Deployment to roll 1.2 out natively",
    )
