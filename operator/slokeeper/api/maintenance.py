"""The MaintenanceWindow resource: planned work that covers every SLO of a namespace (or those
with matching labels), as if the window were written on each of them."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from slokeeper.api.base import API_VERSION, ObjectMeta, ResourceModel
from slokeeper.api.slo import MaintenanceWindow
from slokeeper.slo.maintenance import SharedWindow


class SLOSelector(ResourceModel):
    """Which SLOs of the namespace the window covers."""

    match_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels an SLO must carry to be covered; empty: every SLO of the namespace.",
    )


class MaintenanceWindowSpec(MaintenanceWindow):
    """A maintenance window for many SLOs: start, end and reason as on an SLO, and which SLOs."""

    slo_selector: SLOSelector = Field(
        default_factory=SLOSelector, description="Which SLOs of this namespace it covers."
    )


class MaintenanceWindowStatus(ResourceModel):
    """Nothing is written here: each covered SLO's status.maintenance shows the window."""


class NamespaceMaintenanceWindow(ResourceModel):
    """A MaintenanceWindow as stored in the API server."""

    model_config = ResourceModel.model_config | {"extra": "ignore"}

    kind_name: ClassVar[str] = "MaintenanceWindow"
    plural: ClassVar[str] = "maintenancewindows"
    singular: ClassVar[str] = "maintenancewindow"
    short_names: ClassVar[tuple[str, ...]] = ("mw",)

    api_version: str = Field(default=API_VERSION)
    kind: str = Field(default="MaintenanceWindow")
    metadata: ObjectMeta
    spec: MaintenanceWindowSpec

    def to_shared_window(self) -> SharedWindow:
        """The core's view: this object's window for the SLOs its selector matches."""
        return SharedWindow(
            self.metadata.name,
            self.spec.to_window(),
            tuple(sorted(self.spec.slo_selector.match_labels.items())),
        )
