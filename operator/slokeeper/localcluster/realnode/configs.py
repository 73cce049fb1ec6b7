"""Configuration files of the real node's daemons: containerd (CRI), the CNI network, the kubelet
and kube-proxy. Each setting that differs from a stock node is one that REALNODE.md found this
machine kind needs, with the reason beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

NODE_IP = "10.200.0.1"
POD_SUBNET = "10.244.0.0/24"
CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
CNI_BIN_DIR = Path("/usr/lib/cni")


@dataclass(frozen=True)
class NodeDirs:
    """Every directory the node writes, under its work directory (and containerd's root, kept in
    the cache between runs so imported images survive)."""

    work: Path
    containerd_root: Path

    @property
    def containerd_state(self) -> Path:
        return self.work / "containerd-state"

    @property
    def containerd_socket(self) -> Path:
        return self.work / "containerd.sock"

    @property
    def cni_conf(self) -> Path:
        return self.work / "cni" / "net.d"

    @property
    def cni_data(self) -> Path:
        return self.work / "cni" / "ipam"

    @property
    def kubelet_root(self) -> Path:
        return self.work / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.work / "pod-logs"


def containerd_config(dirs: NodeDirs) -> str:
    return f"""version = 2
root = "{dirs.containerd_root}"
state = "{dirs.containerd_state}"

[grpc]
  address = "{dirs.containerd_socket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # No CAP_SYS_RESOURCE here: runc cannot lower oom_score_adj below its parent's.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{dirs.cni_conf}"
"""


def cni_conflist(dirs: NodeDirs) -> str:
    network = {
        "cniVersion": "1.0.0",
        "name": "slokeeper-realnode",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": False,  # nothing leaves the namespace: no NAT to the outside
                "hairpinMode": True,  # a pod reaching itself through its Service
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(dirs.cni_data),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(network, indent=2)


def kubelet_config(dirs: NodeDirs, ca_file: Path, resolv_conf: Path, cgroup_root: str) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root,  # pods under the node's own cgroup, not the machine's
        "failCgroupV1": False,  # this machine kind has cgroup v1
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{dirs.containerd_socket}",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        "readOnlyPort": 0,
        "address": NODE_IP,
        "healthzBindAddress": "127.0.0.1",
        "resolvConf": str(resolv_conf),
        "podLogsDir": str(dirs.pod_logs),
        "imageGCHighThresholdPercent": 100,  # never collect the locally imported images
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "1Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "serializeImagePulls": False,
        "registerNode": True,
        "maxPods": 60,
    }
    return json.dumps(config, indent=2)


def kube_proxy_config(kubeconfig: Path, node: str) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "mode": "iptables",
        "clusterCIDR": CLUSTER_CIDR,
        "hostnameOverride": node,
        "bindAddress": NODE_IP,
        "metricsBindAddress": "127.0.0.1:10249",
        "healthzBindAddress": "127.0.0.1:10256",
        # conntrack limits are host-wide sysctls: leave them as they are.
        "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return json.dumps(config, indent=2)
