"""CustomResourceDefinitions generated from the pydantic models, the single source of the schemas.

``slokeeper crds`` writes these to ``crds/``; ``slokeeper crds --check`` fails when they drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.change_policy import ChangePolicy, ChangePolicySpec, ChangePolicyStatus
from slokeeper.api.maintenance import (
    MaintenanceWindowSpec,
    MaintenanceWindowStatus,
    NamespaceMaintenanceWindow,
)
from slokeeper.api.openapi import JSONSchema, structural_schema
from slokeeper.api.rollout import ChangeRollout, ChangeRolloutSpec
from slokeeper.api.rollout_status import ChangeRolloutStatus
from slokeeper.api.slo import ServiceLevelObjective, ServiceLevelObjectiveSpec
from slokeeper.api.slo_status import ServiceLevelObjectiveStatus

CATEGORY = "slokeeper"
READY = '.status.conditions[?(@.type=="Ready")].status'


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str
    description: str
    priority: int = 0

    def as_dict(self) -> dict[str, Any]:
        column: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            column["priority"] = self.priority
        return column


@dataclass(frozen=True)
class ResourceKind:
    """What a CRD needs besides the schema: names and the columns `kubectl get` shows."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec: type[BaseModel]
    status: type[BaseModel]
    description: str
    columns: tuple[PrinterColumn, ...]

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


SERVICE_LEVEL_OBJECTIVE = ResourceKind(
    kind=ServiceLevelObjective.kind_name,
    plural=ServiceLevelObjective.plural,
    singular=ServiceLevelObjective.singular,
    short_names=ServiceLevelObjective.short_names,
    spec=ServiceLevelObjectiveSpec,
    status=ServiceLevelObjectiveStatus,
    description=(
        "A Service Level Objective: an SLI, a target and a window. slokeeper writes its burn-rate "
        "alerting rules and keeps its error budget, burn rates and policy action in status."
    ),
    columns=(
        PrinterColumn("Service", ".spec.service", "string", "The service the objective is about."),
        PrinterColumn("Target", ".spec.target", "number", "Objective in percent."),
        PrinterColumn("SLI", ".status.sliRatio", "number", "Measured SLI over the window (0..1)."),
        PrinterColumn(
            "Budget Left",
            ".status.errorBudgetRemainingRatio",
            "number",
            "Share of the error budget left (1 = untouched, below 0 = overspent).",
        ),
        PrinterColumn("Policy", ".status.policyAction", "string", "Budget-policy action in force."),
        PrinterColumn("Ready", READY, "string", "Whether the figures are current."),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date", "Age of the object."),
        PrinterColumn("Window", ".spec.window.rolling", "string", "Rolling window.", priority=1),
    ),
)

CHANGE_ROLLOUT = ResourceKind(
    kind=ChangeRollout.kind_name,
    plural=ChangeRollout.plural,
    singular=ChangeRollout.singular,
    short_names=ChangeRollout.short_names,
    spec=ChangeRolloutSpec,
    status=ChangeRolloutStatus,
    description=(
        "How changes to one Deployment roll out: canary steps analysed against SLOs, gated by "
        "error-budget policy, change windows and approvals. Status records every change."
    ),
    columns=(
        PrinterColumn("Target", ".spec.targetRef.name", "string", "The guarded Deployment."),
        PrinterColumn("Phase", ".status.phase", "string", "Where the current change stands."),
        PrinterColumn(
            "Step", ".status.current.stepNumber", "integer", "Current canary step, from 1."
        ),
        PrinterColumn(
            "Weight",
            ".status.current.canaryWeightPercent",
            "number",
            "Actual canary share of Ready pods, %.",
        ),
        PrinterColumn(
            "Reason",
            ".status.reason",
            "string",
            "Why it stands there: Paused, Blocked, NotEnoughTraffic (held), QueryInvalid "
            "(waits for a person) …",
        ),
        PrinterColumn("Risk", ".spec.risk", "string", "Risk level of changes."),
        PrinterColumn("Ready", READY, "string", "Whether the rollout is reconciled."),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date", "Age of the object."),
    ),
)

MAINTENANCE_WINDOW = ResourceKind(
    kind=NamespaceMaintenanceWindow.kind_name,
    plural=NamespaceMaintenanceWindow.plural,
    singular=NamespaceMaintenanceWindow.singular,
    short_names=NamespaceMaintenanceWindow.short_names,
    spec=MaintenanceWindowSpec,
    status=MaintenanceWindowStatus,
    description=(
        "Planned maintenance for the SLOs of a namespace: their burn-rate alerts are silenced in "
        "Alertmanager while it lasts; their budgets still count every error."
    ),
    columns=(
        PrinterColumn("Start", ".spec.start", "date", "When the window opens."),
        PrinterColumn("End", ".spec.end", "date", "When it closes."),
        PrinterColumn("Reason", ".spec.reason", "string", "Why."),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date", "Age of the object."),
    ),
)

CHANGE_POLICY = ResourceKind(
    kind=ChangePolicy.kind_name,
    plural=ChangePolicy.plural,
    singular=ChangePolicy.singular,
    short_names=ChangePolicy.short_names,
    spec=ChangePolicySpec,
    status=ChangePolicyStatus,
    description=(
        "Who must approve the changes of a namespace, the lowest risk they may claim and who may "
        "override their gates; the one named default governs every ChangeRollout there."
    ),
    columns=(
        PrinterColumn("Minimum risk", ".spec.minimumRisk", "string", "The floor of risk."),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date", "Age of the object."),
    ),
)

RESOURCE_KINDS = (SERVICE_LEVEL_OBJECTIVE, CHANGE_ROLLOUT, MAINTENANCE_WINDOW, CHANGE_POLICY)


def _root_schema(resource: ResourceKind) -> JSONSchema:
    return {
        "type": "object",
        "description": resource.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "APIVersion of this representation: slokeeper.dev/v1alpha1.",
            },
            "kind": {"type": "string", "description": f"Kind: {resource.kind}."},
            "metadata": {"type": "object"},
            "spec": structural_schema(resource.spec),
            "status": structural_schema(resource.status),
        },
    }


def custom_resource_definition(resource: ResourceKind) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind, as a plain dict ready for YAML."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": resource.crd_name,
            "labels": {
                "app.kubernetes.io/name": "slokeeper",
                "app.kubernetes.io/part-of": "slokeeper",
            },
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.singular,
                "shortNames": list(resource.short_names),
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": _root_schema(resource)},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [column.as_dict() for column in resource.columns],
                }
            ],
        },
    }
