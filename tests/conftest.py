"""How `make test` spreads the test files over its workers (`--dist loadfile`)."""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

from real_node_files import is_real_node_file


class _RealNodeFilesTogether(LoadFileScheduling):
    """A file at a time per worker, as ``loadfile``, with every real-node file counted as one:
    one worker runs them one after another, so one real node is up at a time, while the other
    worker takes the KWOK files. A real node on each worker at once overloaded two cores (a CI
    run of 63 minutes, with helm upgrades and 30 s waits timing out)."""

    def _split_scope(self, nodeid: str) -> str:
        return "real-node" if is_real_node_file(nodeid) else nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    if config.getvalue("dist") != "loadfile":
        return None  # xdist's own
    return _RealNodeFilesTogether(config, log)
