"""How `make test` spreads the test files over its workers (`--dist loadfile`)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

# Files whose tests run real pods (a real node: its own control plane, containerd, kubelet and
# kube-proxy) or build the images for them.
REAL_NODE_FILES = (
    "test_real_node",
    "test_realnode_images",
    "test_chart_helm_test_hook",
)


class _RealNodeFilesTogether(LoadFileScheduling):
    """A file at a time per worker, as ``loadfile``, with every real-node file counted as one:
    one worker runs them one after another, so one real node is up at a time, while the other
    worker takes the KWOK files. A real node on each worker at once overloaded two cores (a CI
    run of 63 minutes, with helm upgrades and 30 s waits timing out)."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return "real-node" if PurePosixPath(path).stem.startswith(REAL_NODE_FILES) else path


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    if config.getvalue("dist") != "loadfile":
        return None  # xdist's own
    return _RealNodeFilesTogether(config, log)
