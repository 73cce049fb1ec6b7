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
KEY = "resource.customizations.health.slokeeper.dev_{kind}"


def health_script(kind: str) -> str:
    data: dict[str, str] = yaml.safe_load(HEALTH_PATCH.read_text())["data"]
    return data[KEY.format(kind=kind)]


def argocd_health(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) Argo CD would show for this object."""
    lua = LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    health = lua.execute(health_script(obj["kind"]))
    return str(health["status"]), str(health["message"])
