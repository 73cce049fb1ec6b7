"""Deployments of the simulated checkout service, as tests apply them with kubectl."""

from __future__ import annotations

import yaml


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
