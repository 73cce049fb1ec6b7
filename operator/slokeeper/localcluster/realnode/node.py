"""A real single-node Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, containerd, kubelet and kube-proxy, all inside a network namespace of its own.

Pods are real containers (runc) with real probes, on a CNI bridge; Services work through
kube-proxy's iptables rules inside the namespace. From the default namespace the API server is
reached through a relay on 127.0.0.1 (``kubeconfig``); nothing else crosses. Needs root.
``stop`` removes every process, mount, cgroup and host path the node made.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from slokeeper.localcluster.processes import StartError, free_port, wait_until
from slokeeper.localcluster.realnode import host_state
from slokeeper.localcluster.realnode.configs import (
    KUBERNETES_SERVICE_IP,
    NODE_IP,
    SERVICE_CIDR,
    NodeDirs,
    cni_conflist,
    containerd_config,
    kube_proxy_config,
    kubelet_config,
)
from slokeeper.localcluster.realnode.netns import NamespacedProcess, NetworkNamespace
from slokeeper.localcluster.realnode.pki import (
    ADMIN,
    APISERVER_KUBELET_CLIENT,
    KUBE_PROXY,
    ClusterPKI,
    node_identity,
)
from slokeeper.localcluster.toolchain import TOOLCHAIN_DIR, Toolchain, cache_root

NODE_NAME = "realnode"
MAX_WORKDIR_LENGTH = 70  # + kubelet/pod-resources/<10 digits> and the like stays within 107
API_PORT = 6443
HOST_PACKAGES_SCRIPT = TOOLCHAIN_DIR / "host_packages.sh"


def ensure_host_packages() -> None:
    """The Debian packages the node runs on (containerd, runc, CNI plugins, iptables, socat,
    podman …), installed by ``toolchain/host_packages.sh`` when missing."""
    done = subprocess.run(
        ["bash", str(HOST_PACKAGES_SCRIPT)], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise StartError(f"{HOST_PACKAGES_SCRIPT} failed:\n{done.stdout}{done.stderr}")


def _claim_shared_containerd_root() -> IO[bytes] | None:
    """An exclusive lock on the cached containerd root, or None when another node holds it
    (containerd locks its metadata database: two daemons cannot share a root)."""
    lock_file = cache_root() / "realnode" / "containerd.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_file.open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _node_name_prefix() -> str:
    return f"slk-{os.getpid()}-"


@dataclass
class RealNodeCluster:
    """Start with ``start()`` (or as a context manager); ``kubeconfig`` reaches it from here."""

    toolchain: Toolchain
    workdir: Path
    namespace: NetworkNamespace = field(
        default_factory=lambda: NetworkNamespace(_node_name_prefix() + secrets.token_hex(2))
    )
    kubeconfig: Path = field(init=False)
    startup_seconds: float = 0.0
    _processes: list[NamespacedProcess] = field(default_factory=list)
    _relays: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _root_lock: IO[bytes] | None = None

    def __post_init__(self) -> None:
        self.dirs = NodeDirs(self.workdir, self.workdir / "containerd")
        self.pki = ClusterPKI(self.workdir / "pki")
        self.kubeconfig = self.workdir / "kubeconfig"

    def __enter__(self) -> RealNodeCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def ctr(self) -> list[str]:
        """``ctr`` talking to this node's containerd, in the CRI's namespace."""
        return ["ctr", "--address", str(self.dirs.containerd_socket), "-n", "k8s.io"]

    def start(self) -> RealNodeCluster:
        if os.geteuid() != 0:
            raise StartError("the real-node cluster needs root (network namespace, containerd)")
        if len(str(self.workdir.resolve())) > MAX_WORKDIR_LENGTH:
            raise StartError(
                f"the real node's work directory {self.workdir} is longer than "
                f"{MAX_WORKDIR_LENGTH} characters: the kubelet's unix sockets under it would "
                "exceed the 107 a socket path may have"
            )
        began = time.monotonic()
        ensure_host_packages()
        self._root_lock = _claim_shared_containerd_root()
        if self._root_lock is not None:
            # The shared root keeps imported images between runs (a cold import costs ~10 s);
            # a second node running at the same time keeps the root in its work directory.
            self.dirs = NodeDirs(self.workdir, cache_root() / "realnode" / "containerd")
        host_state.claim_host_paths(self.namespace.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.namespace.create(f"{NODE_IP}/24")
            host_state.create_cgroup(self.namespace.name)
            self._write_pki()
            self._start_control_plane()
            self._start_node()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _write_pki(self) -> None:
        kubelet = node_identity(NODE_NAME)
        identities = (ADMIN, APISERVER_KUBELET_CLIENT, KUBE_PROXY, kubelet)
        self.pki.create((NODE_IP, KUBERNETES_SERVICE_IP, "127.0.0.1"), identities)
        inside = f"https://{NODE_IP}:{API_PORT}"
        for identity in identities:
            self.pki.kubeconfig(identity, inside, self.workdir / f"{identity.name}.conf")

    def _daemon(self, name: str, command: list[str]) -> None:
        process = NamespacedProcess(name, self.workdir / "logs" / f"{name}.log")
        process.start(self.namespace, command)
        self._processes.append(process)

    def _start_control_plane(self) -> None:
        binaries, pki = self.toolchain.kubernetes_dir, self.pki
        self._daemon("etcd", [
            str(self.toolchain.etcd), "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", "http://127.0.0.1:2379",
            "--advertise-client-urls", "http://127.0.0.1:2379",
            "--listen-peer-urls", "http://127.0.0.1:2380", "--unsafe-no-fsync",
        ])  # fmt: skip
        self._daemon("kube-apiserver", [
            str(binaries / "kube-apiserver"), "--etcd-servers", "http://127.0.0.1:2379",
            "--bind-address", "0.0.0.0", "--advertise-address", NODE_IP,  # noqa: S104
            "--secure-port", str(API_PORT),
            "--tls-cert-file", str(pki.cert("apiserver")),
            "--tls-private-key-file", str(pki.key("apiserver")),
            "--client-ca-file", str(pki.ca_cert),
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(pki.directory / "service-account.pub"),
            "--service-account-signing-key-file", str(pki.key("service-account")),
            "--service-cluster-ip-range", SERVICE_CIDR,
            "--authorization-mode", "Node,RBAC",
            "--kubelet-client-certificate", str(pki.cert(APISERVER_KUBELET_CLIENT.name)),
            "--kubelet-client-key", str(pki.key(APISERVER_KUBELET_CLIENT.name)),
            "--kubelet-preferred-address-types", "InternalIP",
        ])  # fmt: skip
        self._start_relay()
        wait_until("the real node's API server", self._api_ready, timeout=60, interval=0.5)
        admin = str(self.workdir / "admin.conf")
        flex = self.workdir / "flexvolume"
        flex.mkdir(exist_ok=True)
        self._daemon("kube-controller-manager", [
            str(binaries / "kube-controller-manager"), "--kubeconfig", admin,
            "--leader-elect=false", "--bind-address", "127.0.0.1",
            "--root-ca-file", str(pki.ca_cert),
            "--service-account-private-key-file", str(pki.key("service-account")),
            "--use-service-account-credentials=false",
            "--controllers", "*,-nodeipam", "--flex-volume-plugin-dir", str(flex),
        ])  # fmt: skip
        self._daemon("kube-scheduler", [
            str(binaries / "kube-scheduler"), "--kubeconfig", admin,
            "--leader-elect=false", "--bind-address", "127.0.0.1",
        ])  # fmt: skip

    def _start_relay(self) -> None:
        """The API server, reached from here through 127.0.0.1."""
        port = self.relay(API_PORT, "api")
        self.pki.kubeconfig(ADMIN, f"https://127.0.0.1:{port}", self.kubeconfig)

    def relay(self, port_inside: int, name: str) -> int:
        """A port on 127.0.0.1 here that leads to ``NODE_IP:port_inside`` inside the namespace
        (socat, one connection each); stopped with the node."""
        port = free_port()
        script = self.workdir / f"relay-{name}.sh"
        script.write_text(
            "#!/bin/sh\n"
            f"exec {' '.join(self.namespace.enter())} socat STDIO TCP:{NODE_IP}:{port_inside}\n"
        )
        script.chmod(0o755)
        log = (self.workdir / "logs" / f"relay-{name}.log").open("wb")
        self._relays.append(
            subprocess.Popen(
                ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"EXEC:{script}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        return port

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.toolchain.kubectl), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=check,
        )

    def _api_ready(self) -> str | None:
        for process in self._processes:
            process.check_running()
        done = self.kubectl("get", "--raw", "/readyz", check=False)
        return None if done.returncode == 0 else (done.stderr or done.stdout).strip()[-300:]

    def _start_node(self) -> None:
        dirs = self.dirs
        for directory in (dirs.cni_conf, dirs.containerd_root, dirs.kubelet_root, dirs.pod_logs):
            directory.mkdir(parents=True, exist_ok=True)
        (dirs.cni_conf / "10-slokeeper.conflist").write_text(cni_conflist(dirs))
        config = self.workdir / "containerd.toml"
        config.write_text(containerd_config(dirs))
        self._daemon("containerd", ["containerd", "--config", str(config)])
        wait_until("containerd", self._containerd_ready, timeout=30, interval=0.2)
        resolv = self.workdir / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\n")  # no cluster DNS: pods use Service IPs
        kubelet_config_file = self.workdir / "kubelet.json"
        kubelet_config_file.write_text(
            kubelet_config(dirs, self.pki.ca_cert, resolv, f"/{self.namespace.name}")
        )
        self._daemon("kubelet", [
            str(self.toolchain.kubelet), "--config", str(kubelet_config_file),
            "--kubeconfig", str(self.workdir / "kubelet.conf"),
            "--root-dir", str(dirs.kubelet_root), "--cert-dir", str(self.workdir / "kubelet-pki"),
            "--node-ip", NODE_IP, "--hostname-override", NODE_NAME,
            "--volume-plugin-dir", str(self.workdir / "flexvolume"),
        ])  # fmt: skip
        proxy_config = self.workdir / "kube-proxy.json"
        proxy_config.write_text(kube_proxy_config(self.workdir / "kube-proxy.conf", NODE_NAME))
        self._daemon("kube-proxy", [str(self.toolchain.kube_proxy), "--config", str(proxy_config)])
        wait_until("the real node to be Ready", self._node_ready, timeout=60, interval=0.5)

    def _containerd_ready(self) -> str | None:
        for process in self._processes:
            process.check_running()
        done = subprocess.run([*self.ctr, "version"], check=False, capture_output=True, text=True)
        return None if done.returncode == 0 else done.stderr.strip()[-300:]

    def _node_ready(self) -> str | None:
        for process in self._processes:
            process.check_running()
        done = self.kubectl(
            "get", "node", NODE_NAME, "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False,
        )  # fmt: skip
        return None if done.stdout == "True" else (done.stdout or done.stderr).strip()[-300:]

    def run_inside(self, *command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a command of this machine inside the node's network namespace: how the tests
        reach pod and Service IPs, which exist nowhere else."""
        return subprocess.run(
            [*self.namespace.enter(), *command],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self) -> None:
        """Stop everything and remove what the node made, in the order that frees it: the
        kubelet (no restarts), the containers, containerd, the rest, then mounts, cgroups, host
        paths and the namespace."""
        by_name = {process.name: process for process in self._processes}
        if "kubelet" in by_name:
            by_name["kubelet"].stop()
        if "containerd" in by_name:
            host_state.kill_containers(self.ctr)
        host_state.kill_pod_processes(self.namespace.name)
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        for relay in self._relays:
            relay.terminate()
            relay.wait(timeout=10)
        self._relays.clear()
        host_state.unmount_under(self.workdir)
        host_state.unmount_under(self.dirs.containerd_root)
        host_state.remove_cgroup(self.namespace.name)
        host_state.release_host_paths(self.namespace.name)
        self.namespace.delete()
        shutil.rmtree(self.dirs.containerd_state, ignore_errors=True)
        if self._root_lock is not None:
            self._root_lock.close()
            self._root_lock = None
