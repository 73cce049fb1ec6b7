"""What a real node makes outside its work directory, and how it is removed: the containers
containerd still runs, mounts under the work directory, the node's own cgroup (the kubelet's
cgroup root, so two nodes on one machine never share pod cgroups) and the fixed host paths the
kubelet, libcni and the shim write to whatever they are told (REALNODE.md)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from slokeeper.localcluster.file_lock import held_exclusively

CGROUP_ROOT = Path("/sys/fs/cgroup")
# Written by the kubelet, libcni and containerd-shim regardless of their configured paths.
FIXED_HOST_PATHS = (
    Path("/var/lib/kubelet"),
    Path("/var/log/containers"),
    Path("/var/log/pods"),
    Path("/var/lib/cni"),
    Path("/run/containerd"),
)


# Which nodes use the fixed host paths, and which of them the first made (so the last removes).
SHARED_STATE = Path("/run/slokeeper-realnode")


@contextlib.contextmanager
def _shared_paths_record() -> Iterator[dict[str, list[str]]]:
    """The record of the nodes that use the fixed host paths, read and written under a lock."""
    record_file = SHARED_STATE / "host-paths.json"
    with held_exclusively(SHARED_STATE / "lock"):
        record: dict[str, list[str]] = {"nodes": [], "made": []}
        with contextlib.suppress(FileNotFoundError, ValueError):
            record = json.loads(record_file.read_text())
        # A node whose process is gone (killed, crashed) no longer uses them.
        record["nodes"] = [node for node in record["nodes"] if _alive(node)]
        yield record
        if record["nodes"]:
            record_file.write_text(json.dumps(record))
    if not record["nodes"]:
        shutil.rmtree(SHARED_STATE, ignore_errors=True)


def _alive(node: str) -> bool:
    """Node names carry their process's PID (``slk-<pid>-<hex>``)."""
    try:
        os.kill(int(node.split("-")[1]), 0)
    except (IndexError, ValueError, ProcessLookupError):
        return False
    return True


def claim_host_paths(node: str) -> None:
    """Count ``node`` among the users of the fixed host paths; the first user notes which of
    them did not exist yet, for the last one to remove (two nodes may run at once)."""
    with _shared_paths_record() as record:
        if not record["nodes"]:  # what a node that died left is still to be removed
            absent = {str(path) for path in FIXED_HOST_PATHS if not path.exists()}
            record["made"] = sorted(absent | set(record["made"]))
        record["nodes"].append(node)


def release_host_paths(node: str) -> None:
    """The last node to stop removes the fixed host paths the first one made."""
    with _shared_paths_record() as record:
        record["nodes"] = [other for other in record["nodes"] if other != node]
        if not record["nodes"]:
            remove_host_paths(tuple(Path(path) for path in record["made"]))


CTR_TIMEOUT_SECONDS = 20.0


def _ctr(ctr: list[str], *args: str) -> subprocess.CompletedProcess[str] | None:
    """One ``ctr`` call, or None when it did not answer in time (``tasks delete -f`` has been
    seen to wait forever on a task whose container containerd had already forgotten)."""
    try:
        return subprocess.run(
            [*ctr, *args], check=False, capture_output=True, text=True, timeout=CTR_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return None


def kill_containers(ctr: list[str]) -> None:
    """Kill and delete every task and container in containerd's k8s.io namespace (``ctr`` is
    the command prefix with the node's socket)."""

    def listed(*what: str) -> list[str]:
        done = _ctr(ctr, *what, "ls", "-q")
        return done.stdout.split() if done is not None and done.returncode == 0 else []

    for task in listed("tasks"):
        _ctr(ctr, "tasks", "kill", "-s", "SIGKILL", task)
    for task in listed("tasks"):
        _ctr(ctr, "tasks", "delete", "-f", task)
    for container in listed("containers"):
        _ctr(ctr, "containers", "delete", container)


def kill_pod_processes(name: str) -> list[int]:
    """SIGKILL every process left in the pods' cgroups below the node's own ``/<name>`` (a
    container containerd no longer knows of, yet still running); the PIDs killed."""
    killed: list[int] = []
    for hierarchy in _hierarchies():
        pods = hierarchy / name / "kubepods"
        if not pods.is_dir():
            continue
        for directory, _, _ in os.walk(pods):
            with contextlib.suppress(OSError):
                for pid in (Path(directory) / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                        killed.append(int(pid))
    return sorted(set(killed))


def unmount_under(directory: Path) -> None:
    """Unmount everything mounted below ``directory``, deepest first."""
    prefix = str(directory.resolve())
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _hierarchies() -> list[Path]:
    """The mounted cgroup v1 hierarchies (cpu, memory, pids, …; ``unified`` is v2's)."""
    return [path for path in CGROUP_ROOT.iterdir() if (path / "cgroup.procs").is_file()]


def create_cgroup(name: str) -> None:
    """``/<name>`` in every hierarchy; a new cpuset gets its parent's CPUs and memory nodes, or
    no process could join it."""
    for hierarchy in _hierarchies():
        directory = hierarchy / name
        directory.mkdir(exist_ok=True)
        for setting in ("cpuset.cpus", "cpuset.mems"):
            if (hierarchy / setting).is_file():
                (directory / setting).write_text((hierarchy / setting).read_text())


def remove_cgroup(name: str) -> None:
    """``/<name>`` and every cgroup below it, deepest first (empty once their processes are
    gone; a busy one is left for the next start's clean-up)."""
    for hierarchy in _hierarchies():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for directory, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def remove_host_paths(paths: tuple[Path, ...]) -> None:
    for path in paths:
        if path.exists():
            unmount_under(path)
            shutil.rmtree(path, ignore_errors=True)
