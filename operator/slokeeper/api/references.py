"""Which object an action is about: enough to patch it, own something for it, or post an Event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slokeeper.api.base import API_VERSION


@dataclass(frozen=True)
class ObjectRef:
    kind: str
    namespace: str
    name: str
    uid: str
    api_version: str = API_VERSION

    def owner_reference(self) -> dict[str, Any]:
        """An ownerReference, so the garbage collector deletes what we made with the owner."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": False,
        }
