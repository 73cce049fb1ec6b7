"""What both demos (KWOK and the real node) do with the guarded ChangeRollout: read it, and show
a change from the moment it is shipped until it ends."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from slokeeper.api.base import GROUP, VERSION
from slokeeper.cli.rollout_view import LivePanel, RolloutView

ROLLOUT_DEADLINE_SECONDS = 300.0


def read_rollout(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    found: Any = custom.get_namespaced_custom_object(
        GROUP, VERSION, namespace, "changerollouts", name
    )
    return dict(found)


def follow_rollout(
    read: Callable[[], dict[str, Any]], changes_before: int, version: str, log: Path
) -> dict[str, Any]:
    """Show the rollout (a live panel on a terminal, a line per change into a log or pipe) until
    the change shipped after ``changes_before`` ended changes is over; its final status."""
    live = LivePanel(sys.stdout) if sys.stdout.isatty() else None
    lines = RolloutView(sys.stdout)
    deadline = time.monotonic() + ROLLOUT_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        body = read()
        status: dict[str, Any] = body.get("status") or {}
        if live is not None:
            live.show(body)
        else:
            lines.show(status)
        if len(status.get("history", [])) > changes_before and status.get("phase") != "Promoting":
            return status
        time.sleep(1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise RuntimeError(f"the rollout of {version} did not end in time; operator log:\n{tail}")
