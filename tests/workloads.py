"""Deployments of the simulated checkout service, as tests apply them with kubectl."""

from __future__ import annotations

import yaml
from kubernetes import client

from polling import eventually
from slokeeper.localcluster.cluster import LocalCluster


def checkout_deployment(name: str, replicas: int, image: str, variant: str) -> str:
    """A Deployment whose Pods carry app=checkout (what the simulator follows) and a variant label
    that keeps its selector apart from the other Deployments of the same test."""
    labels = {"app": "checkout", "variant": variant}
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": "checkout"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "checkout", "image": image}]},
                },
            },
        }
    )


def ready_replicas(apps: client.AppsV1Api, namespace: str, name: str) -> int:
    """Ready replicas of a Deployment; -1 while it does not exist."""
    try:
        status = apps.read_namespaced_deployment_status(name, namespace).status
    except client.exceptions.ApiException:
        return -1
    return int(status.ready_replicas or 0) if status is not None else 0


def deploy_ready(
    cluster: LocalCluster, apps: client.AppsV1Api, namespace: str, replicas: int, image: str
) -> None:
    """Apply the checkout Deployment and wait until every replica is Ready on the kwok nodes."""
    manifest = checkout_deployment("checkout", replicas, image, variant="stable")
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=manifest)
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout"),
        lambda ready: ready == replicas,
        f"{replicas} Ready pods of {image}",
    )


def set_image(cluster: LocalCluster, namespace: str, version: str) -> None:
    """Ship checkout ``version`` the way a person or a GitOps tool would: edit the Deployment."""
    cluster.kubectl(
        "set", "image", "deployment/checkout", f"checkout=shop/checkout:{version}", "-n", namespace
    )


def ready_images(core: client.CoreV1Api, namespace: str) -> list[str]:
    """Images of the Ready checkout pods, sorted (stable and canary alike)."""
    pods = core.list_namespaced_pod(namespace, label_selector="app=checkout").items
    return sorted(
        p.spec.containers[0].image
        for p in pods
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
    )
