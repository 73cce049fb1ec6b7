"""User story: a developer runs the suite on a machine without Docker and gets a real node —
a real kubelet and containerd in a network namespace of the harness's own — and, when the suite
ends, the machine as it was: no process, mount, cgroup, namespace or host path left behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from slokeeper.localcluster.realnode.host_state import FIXED_HOST_PATHS
from slokeeper.localcluster.realnode.node import NODE_NAME, RealNodeCluster
from slokeeper.localcluster.toolchain import Toolchain


def test_the_node_runs_a_real_kubelet_on_containerd(real_node: RealNodeCluster) -> None:
    node = json.loads(real_node.kubectl("get", "node", NODE_NAME, "-o", "json").stdout)
    info = node["status"]["nodeInfo"]
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True", ready
    assert info["containerRuntimeVersion"].startswith("containerd://"), info
    assert info["kubeletVersion"] == "v1.36.3", info
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == "10.200.0.1", addresses
    # The node's address lives only in the harness's namespace, never in the default one.
    here = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True)
    assert "10.200.0.1" not in here.stdout


def _netns() -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]


def _processes_under(directory: Path) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(directory) in text:
            found.append(text.strip())
    return found


def _mounts_under(directory: Path) -> list[str]:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line.split()[4] for line in lines if line.split()[4].startswith(str(directory))]


def test_a_stopped_node_leaves_nothing_behind(toolchain: Toolchain, tmp_path: Path) -> None:
    absent_before = [path for path in FIXED_HOST_PATHS if not path.exists()]
    node = RealNodeCluster(toolchain, tmp_path / "node")
    with node:
        assert node.namespace.name in _netns()
        assert _processes_under(tmp_path), "the node's daemons run from its work directory"
        cgroups = list(Path("/sys/fs/cgroup").glob(f"*/{node.namespace.name}/kubepods"))
        assert cgroups, "pods get cgroups under the node's own root"
    assert node.namespace.name not in _netns()
    assert _processes_under(tmp_path) == []
    assert _mounts_under(tmp_path) == []
    assert list(Path("/sys/fs/cgroup").glob(f"*/{node.namespace.name}")) == []
    left = [str(path) for path in absent_before if path.exists()]
    assert left == [], f"host paths the node made and left: {left}"
