"""Runs the Argo CD health checks we ship (Lua, from manifests/argocd) the way Argo CD does:
the object as the global ``obj``, the script's returned table as the health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from lupa import LuaRuntime

HEALTH_PATCH = (
    Path(__file__).resolve().parents[1] / "manifests" / "argocd" / "argocd-cm-health.yaml"
)
GROUPS = {"Deployment": "apps"}  # our own kinds are in slokeeper.dev


def health_script(kind: str) -> str:
    data: dict[str, str] = yaml.safe_load(HEALTH_PATCH.read_text())["data"]
    return data[f"resource.customizations.health.{GROUPS.get(kind, 'slokeeper.dev')}_{kind}"]


def argocd_health(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) Argo CD would show for this object."""
    lua = LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    health = lua.execute(health_script(obj["kind"]))
    return str(health["status"]), str(health["message"])
