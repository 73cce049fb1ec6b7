"""Reads ChangeRollouts (and the SLOs they name) and writes their status and annotations.

Writes carry the resourceVersion the tick read: if anyone else changed the object meanwhile
(another replica, a person, kopf adding its finalizer) the API server answers 409 Conflict and
the rollout loop starts the tick again on a fresh read instead of writing over what it missed.
"""

from __future__ import annotations

import os
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.change_policy import POLICY_NAME, ChangePolicy
from slokeeper.api.rollout import ChangeRollout
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.kube.policy_copies import PolicyCopies, is_copy

# The operator's own namespace (the chart sets it from the Downward API): its ChangePolicy
# `default` governs every namespace without one of its own.
OWN_NAMESPACE_ENV = "POD_NAMESPACE"


def is_conflict(error: Exception) -> bool:
    return isinstance(error, ApiException) and error.status == 409


class RolloutStore:
    def __init__(self, api: client.ApiClient, own_namespace: str | None = None) -> None:
        self._custom = client.CustomObjectsApi(api)
        self.status_writes = 0
        self._own = (
            os.environ.get(OWN_NAMESPACE_ENV, "") if own_namespace is None else own_namespace
        )
        self._copies = PolicyCopies(self._custom, self._own)

    def _get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            found: Any = self._custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, name
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(found)

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(ChangeRollout.plural, namespace, name)

    def read_slo(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(ServiceLevelObjective.plural, namespace, name)

    def read_policy(self, namespace: str) -> dict[str, Any] | None:
        """The ChangePolicy that governs the namespace, if there is one: its own ``default``,
        else the operator namespace's (whose copy there is kept in line, ``PolicyCopies``)."""
        found = self._get(ChangePolicy.plural, namespace, POLICY_NAME)
        if not self._own or namespace == self._own or (found is not None and not is_copy(found)):
            return found
        original = self._get(ChangePolicy.plural, self._own, POLICY_NAME)
        self._copies.sync(namespace, found, original)
        return original

    def write_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str
    ) -> str:
        """Replace the whole status (a merge patch could not drop a field that went away);
        returns the new resourceVersion."""
        self.status_writes += 1
        written: Any = self._custom.replace_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            ChangeRollout.plural,
            name,
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": ChangeRollout.kind_name,
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "resourceVersion": resource_version,
                },
                "status": status,
            },
        )
        return str(written["metadata"]["resourceVersion"])

    def remove_annotations(
        self, namespace: str, name: str, keys: list[str], resource_version: str
    ) -> None:
        """Remove requests once acted on (only if nobody wrote since: they may be new ones)."""
        if not keys:
            return
        self._custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            ChangeRollout.plural,
            name,
            {
                "metadata": {
                    "resourceVersion": resource_version,
                    "annotations": dict.fromkeys(keys),
                }
            },
        )


def set_annotation(
    api: client.ApiClient, namespace: str, name: str, key: str, value: str | None
) -> None:
    """Set (or, with None, remove) one annotation on a ChangeRollout."""
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        ChangeRollout.plural,
        name,
        {"metadata": {"annotations": {key: value}}},
    )
