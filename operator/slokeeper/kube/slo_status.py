"""Writes a ServiceLevelObjective's status subresource with a merge patch."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.slo import ServiceLevelObjective


class SLOStatusWriter:
    def __init__(self, api: client.ApiClient) -> None:
        self._custom = client.CustomObjectsApi(api)
        self.writes = 0

    def write(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge ``status`` into what the status shows. Fields it leaves out keep their last
        value: while Prometheus cannot answer, the last known figures stay visible (with
        lastEvaluationTime saying how old they are) and budget gates keep using them."""
        self.writes += 1
        self._custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            ServiceLevelObjective.plural,
            name,
            {"status": status},
        )
