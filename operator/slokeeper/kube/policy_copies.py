"""The ChangePolicy that governs a namespace, and the copies of the cluster-wide default.

A ChangePolicy named ``default`` in the operator's own namespace governs every namespace that has
no ``default`` of its own. The operator's gates read it directly; the API server's admission
policies read the namespace's own ``default`` (their paramRef), so the operator keeps a copy
there, labelled ``slokeeper.dev/copied-from: <operator namespace>``, wherever a ChangeRollout is
ticked: created, kept equal to the original, deleted once the original is gone. A namespace's
own (unlabelled) policy is never touched. Called by ``RolloutStore.read_policy``.
"""

from __future__ import annotations

import logging
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.change_policy import COPIED_FROM_LABEL, POLICY_NAME, ChangePolicy

log = logging.getLogger(__name__)


def is_copy(policy: dict[str, Any] | None) -> bool:
    labels = ((policy or {}).get("metadata") or {}).get("labels") or {}
    return COPIED_FROM_LABEL in labels


def copy_of(original: dict[str, Any], namespace: str, source: str) -> dict[str, Any]:
    """The copy of ``original`` (in namespace ``source``) that ``namespace`` holds."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": ChangePolicy.kind_name,
        "metadata": {
            "name": POLICY_NAME,
            "namespace": namespace,
            "labels": {COPIED_FROM_LABEL: source},
        },
        "spec": original.get("spec") or {},
    }


class PolicyCopies:
    """Keeps one namespace's copy of the default in line with the original."""

    def __init__(self, custom: client.CustomObjectsApi, source: str) -> None:
        self._custom = custom
        self._source = source

    def sync(
        self, namespace: str, copy: dict[str, Any] | None, original: dict[str, Any] | None
    ) -> None:
        """Create, update or delete ``namespace``'s copy; a failure is logged, never raised:
        the gates read the original, only the API server's checks wait for the copy."""
        try:
            self._sync(namespace, copy, original)
        except ApiException as error:
            if error.status != 409:  # someone wrote it meanwhile: the next tick looks again
                log.warning(
                    "ChangePolicy %s/%s: could not keep the copy of %s/%s (%s %s)",
                    namespace, POLICY_NAME, self._source, POLICY_NAME, error.status, error.reason,
                )  # fmt: skip

    def _sync(
        self, namespace: str, copy: dict[str, Any] | None, original: dict[str, Any] | None
    ) -> None:
        plural = ChangePolicy.plural
        if original is None:
            if copy is not None:
                version = copy["metadata"]["resourceVersion"]
                self._custom.delete_namespaced_custom_object(
                    GROUP, VERSION, namespace, plural, POLICY_NAME,
                    body=client.V1DeleteOptions(
                        preconditions=client.V1Preconditions(resource_version=version)
                    ),
                )  # fmt: skip
            return
        wanted = copy_of(original, namespace, self._source)
        if copy is None:
            self._custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, wanted)
        elif copy.get("spec") != wanted["spec"]:
            wanted["metadata"]["resourceVersion"] = copy["metadata"]["resourceVersion"]
            self._custom.replace_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, POLICY_NAME, wanted
            )
