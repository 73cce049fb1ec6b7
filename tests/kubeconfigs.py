"""Kubeconfigs for identities other than the cluster admin: how a test acts as a ServiceAccount
(the operator under its chart's RBAC) exactly as a Pod would, with a signed token only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from slokeeper.localcluster.cluster import LocalCluster


def service_account_kubeconfig(
    cluster: LocalCluster, namespace: str, service_account: str, path: Path
) -> Path:
    token = cluster.kubectl(
        "create", "token", service_account, "-n", namespace, "--duration", "2h"
    ).stdout.strip()
    admin: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    server = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    user = f"system:serviceaccount:{namespace}:{service_account}"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [server],
                "users": [{"name": user, "user": {"token": token}}],
                "contexts": [
                    {
                        "name": user,
                        "context": {
                            "cluster": server["name"],
                            "user": user,
                            "namespace": namespace,
                        },
                    }
                ],
                "current-context": user,
            }
        )
    )
    return path
