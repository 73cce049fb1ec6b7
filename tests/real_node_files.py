"""Which test files run real pods: tests/conftest.py hands them to one worker, one after another,
and the real node they share is stopped once the run leaves them."""

from __future__ import annotations

from pathlib import PurePosixPath

# Files whose tests run real pods (a real node: its own control plane, containerd, kubelet and
# kube-proxy) or build the images for them.
REAL_NODE_FILES = (
    "test_real_node",
    "test_realnode_images",
    "test_chart_helm_test_hook",
)


def is_real_node_file(path: str) -> bool:
    """``path``: a test file's path, or a test's node id."""
    return PurePosixPath(path.split("::", 1)[0]).stem.startswith(REAL_NODE_FILES)
