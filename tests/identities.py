"""Real people for tests: client certificates signed by the local cluster's CA, with the username
as CN and the groups as O, exactly how the API server authenticates users of a real cluster."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from slokeeper.localcluster.cluster import LocalCluster


def user_kubeconfig(cluster: LocalCluster, user: str, groups: list[str], path: Path) -> Path:
    pki = cluster.cluster_dir / "pki"
    # The issuer is the CA's subject; read from the admin certificate the CA signed, because
    # kwok's CA certificate has a serial number RFC 5280 disallows (cryptography warns on it).
    issuer = x509.load_pem_x509_certificate((pki / "admin.crt").read_bytes()).issuer
    ca_key: Any = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        + [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=2))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = path.with_suffix(".crt"), path.with_suffix(".key")
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    admin: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    server = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [server],
                "users": [
                    {
                        "name": user,
                        "user": {
                            "client-certificate": str(cert_file),
                            "client-key": str(key_file),
                        },
                    }
                ],
                "contexts": [{"name": user, "context": {"cluster": server["name"], "user": user}}],
                "current-context": user,
            }
        )
    )
    return path


def run_as(kubeconfig: Path, cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl as the person whose kubeconfig it is; never raises on a refusal."""
    return subprocess.run(
        [str(cluster.toolchain.kubectl), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
