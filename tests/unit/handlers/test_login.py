"""In a Pod the operator reaches the API server at the address the kubelet gives every Pod, with
its ServiceAccount's token, without asking DNS; elsewhere it falls back to a kubeconfig."""

from __future__ import annotations

from pathlib import Path

import kopf

from slokeeper.handlers.operator import in_cluster_login


def _service_account(directory: Path) -> Path:
    directory.mkdir()
    (directory / "token").write_text("a-token\n")
    (directory / "namespace").write_text("slokeeper-system")
    (directory / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return directory


def test_a_pod_logs_in_at_the_service_address_with_its_token(tmp_path: Path) -> None:
    account = _service_account(tmp_path / "sa")
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    info = in_cluster_login(kopf.OperatorSettings(), account, environ)
    assert info is not None
    assert info.server == "https://10.96.0.1:443"
    assert info.token == "a-token"
    assert info.ca_path == str(account / "ca.crt")
    assert info.default_namespace == "slokeeper-system"


def test_an_ipv6_service_address_is_bracketed(tmp_path: Path) -> None:
    account = _service_account(tmp_path / "sa")
    environ = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"}
    info = in_cluster_login(kopf.OperatorSettings(), account, environ)
    assert info is not None
    assert info.server == "https://[fd00::1]:6443"


def test_outside_a_pod_there_is_no_in_cluster_login(tmp_path: Path) -> None:
    account = _service_account(tmp_path / "sa")
    assert in_cluster_login(kopf.OperatorSettings(), account, {}) is None
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    assert in_cluster_login(kopf.OperatorSettings(), tmp_path / "none", environ) is None
