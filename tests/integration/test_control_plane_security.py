"""User story: the local control plane enforces what a real cluster does, so RBAC mistakes in
slokeeper show up in tests: authorization is RBAC, and ServiceAccount tokens are signed."""

from __future__ import annotations

import os
import subprocess

import yaml

from slokeeper.localcluster.cluster import LocalCluster


def test_a_service_account_without_roles_is_refused(cluster: LocalCluster, namespace: str) -> None:
    cluster.kubectl("create", "serviceaccount", "nobody", "-n", namespace)
    as_nobody = ("--as", f"system:serviceaccount:{namespace}:nobody")
    denied = cluster.kubectl(
        "auth", "can-i", "list", "pods", "-n", namespace, *as_nobody, check=False
    )
    assert denied.stdout.strip() == "no"

    cluster.kubectl(
        "create", "role", "pod-reader", "--verb=list", "--resource=pods", "-n", namespace
    )
    cluster.kubectl(
        "create", "rolebinding", "nobody-reads-pods", "--role=pod-reader",
        f"--serviceaccount={namespace}:nobody", "-n", namespace,
    )  # fmt: skip
    allowed = cluster.kubectl(
        "auth", "can-i", "list", "pods", "-n", namespace, *as_nobody, check=False
    )
    assert allowed.stdout.strip() == "yes"


def test_service_account_tokens_are_issued_and_accepted(
    cluster: LocalCluster, namespace: str
) -> None:
    cluster.kubectl("create", "serviceaccount", "reader", "-n", namespace)
    token = cluster.kubectl("create", "token", "reader", "-n", namespace).stdout.strip()
    assert token.count(".") == 2  # a signed JWT
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    server = kubeconfig["clusters"][0]["cluster"]
    # Only the token, no client certificate: the API server must authenticate the token itself.
    who = subprocess.run(
        [
            str(cluster.toolchain.kubectl), "--kubeconfig", os.devnull,
            "--server", server["server"],
            "--certificate-authority", server["certificate-authority"],
            "--token", token, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}",
        ],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert who.stdout == f"system:serviceaccount:{namespace}:reader"
