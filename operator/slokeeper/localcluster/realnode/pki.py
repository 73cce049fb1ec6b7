"""The real-node cluster's certificates and kubeconfigs, made with the openssl command (Debian
has it everywhere; no Python crypto library needed at run time).

One CA signs everything: the API server's serving certificate (valid for the node IP, the
``kubernetes`` Service IP and loopback, so pods, the node and the relay all verify it), a client
certificate per component, and the service-account signing key pair.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = "30"


@dataclass(frozen=True)
class Identity:
    """A client certificate: who a component is to the API server."""

    name: str  # file stem
    common_name: str
    organization: str | None = None


ADMIN = Identity("admin", "slokeeper-admin", "system:masters")
APISERVER_KUBELET_CLIENT = Identity("apiserver-kubelet-client", "kube-apiserver", "system:masters")
KUBE_PROXY = Identity("kube-proxy", "system:kube-proxy")


def node_identity(node: str) -> Identity:
    return Identity("kubelet", f"system:node:{node}", "system:nodes")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _subject(identity: Identity) -> str:
    organization = f"/O={identity.organization}" if identity.organization else ""
    return f"{organization}/CN={identity.common_name}"


@dataclass(frozen=True)
class ClusterPKI:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def create(self, server_ips: tuple[str, ...], identities: tuple[Identity, ...]) -> None:
        """The CA, the API server's serving certificate, each identity's client certificate
        and the service-account key pair."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _openssl("genrsa", "-out", str(self.ca_key), "2048")
        _openssl(
            "req", "-x509", "-new", "-key", str(self.ca_key), "-subj", "/CN=slokeeper-realnode-ca",
            "-days", DAYS, "-out", str(self.ca_cert),
        )  # fmt: skip
        names = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost"]
        alt = ",".join([*(f"IP:{ip}" for ip in server_ips), *(f"DNS:{n}" for n in names)])
        self._sign(Identity("apiserver", "kube-apiserver"), f"subjectAltName={alt}")
        for identity in identities:
            self._sign(identity, "extendedKeyUsage=clientAuth")
        _openssl("genrsa", "-out", str(self.key("service-account")), "2048")
        _openssl(
            "rsa", "-in", str(self.key("service-account")), "-pubout",
            "-out", str(self.directory / "service-account.pub"),
        )  # fmt: skip

    def _sign(self, identity: Identity, extension: str) -> None:
        key, csr = self.key(identity.name), self.directory / f"{identity.name}.csr"
        _openssl("genrsa", "-out", str(key), "2048")
        _openssl("req", "-new", "-key", str(key), "-subj", _subject(identity), "-out", str(csr))
        extensions = self.directory / f"{identity.name}.ext"
        extensions.write_text(extension + "\n")
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
            "-CAcreateserial", "-days", DAYS, "-extfile", str(extensions),
            "-out", str(self.cert(identity.name)),
        )  # fmt: skip

    def kubeconfig(self, identity: Identity, server: str, path: Path) -> Path:
        """A kubeconfig that reaches ``server`` as ``identity``."""
        path.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
- name: realnode
  cluster:
    server: {server}
    certificate-authority: {self.ca_cert}
users:
- name: {identity.name}
  user:
    client-certificate: {self.cert(identity.name)}
    client-key: {self.key(identity.name)}
contexts:
- name: realnode
  context: {{cluster: realnode, user: {identity.name}}}
current-context: realnode
"""
        )
        return path
