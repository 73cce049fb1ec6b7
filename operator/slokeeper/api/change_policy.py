"""The ChangePolicy resource: who must approve what, the lowest risk a change may claim and who may
override the gates — for every ChangeRollout of a namespace, kept in an object the authors of
the changes cannot edit (the chart gives it to a policy-admin ClusterRole).

The one named ``default`` in a namespace governs every ChangeRollout there: its approval roles
replace the ChangeRollout's own, a change's risk is never below ``minimumRisk``, and when
``overrideRoles`` is set only their members may override the gates or force a promotion (the API
server checks both, with the roles read from this object).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from slokeeper.api.base import API_VERSION, ObjectMeta, ResourceModel
from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.api.rollout_gates import Approval, Risk

POLICY_NAME = "default"  # the ChangePolicy that governs a namespace
RISK_ORDER = (Risk.LOW, Risk.MEDIUM, Risk.HIGH)


class ChangePolicySpec(ResourceModel):
    """What every ChangeRollout of the namespace is held to."""

    approval: Approval | None = Field(
        default=None,
        description="Approvals by risk and the roles that give them; when set, they replace "
        "every ChangeRollout's own spec.gates.approval in this namespace.",
    )
    minimum_risk: Risk = Field(
        default=Risk.LOW,
        description="The lowest risk a change may claim: a ChangeRollout saying less counts as "
        "this.",
    )
    override_roles: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles of approval.roles whose members alone may override the gates or "
        "force a promotion (checked by the API server); empty: anyone who may annotate.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )

    def risk_for(self, asked: Risk) -> Risk:
        """The risk a change counts as: what its ChangeRollout says, never below the floor."""
        return max(asked, self.minimum_risk, key=RISK_ORDER.index)

    def govern(self, spec: ChangeRolloutSpec) -> ChangeRolloutSpec:
        """The ChangeRollout's spec as this policy holds it: its risk raised to the floor, its
        approvals replaced by the policy's when the policy has them."""
        approval = self.approval or spec.gates.approval
        gates = spec.gates.model_copy(update={"approval": approval})
        return spec.model_copy(update={"risk": self.risk_for(spec.risk), "gates": gates})


def govern(spec: ChangeRolloutSpec, policy: dict[str, Any] | None) -> ChangeRolloutSpec:
    """``spec`` as the namespace's ChangePolicy (as the API server stores it) holds it; as
    written without one. Raises ``ValidationError`` for a policy that cannot be read."""
    if policy is None:
        return spec
    return ChangePolicySpec.model_validate(policy.get("spec") or {}).govern(spec)


class ChangePolicyStatus(ResourceModel):
    """Nothing is written here: each ChangeRollout's gate messages name the policy."""


class ChangePolicy(ResourceModel):
    """A ChangePolicy as stored in the API server."""

    model_config = ResourceModel.model_config | {"extra": "ignore"}

    kind_name: ClassVar[str] = "ChangePolicy"
    plural: ClassVar[str] = "changepolicies"
    singular: ClassVar[str] = "changepolicy"
    short_names: ClassVar[tuple[str, ...]] = ("cpol",)

    api_version: str = Field(default=API_VERSION)
    kind: str = Field(default="ChangePolicy")
    metadata: ObjectMeta
    spec: ChangePolicySpec
