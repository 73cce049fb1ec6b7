"""The ChangePolicy resource: who must approve what, the lowest risk a change may claim and who may
override the gates — for every ChangeRollout of a namespace, kept in an object the authors of
the changes cannot edit (the chart gives it to a policy-admin ClusterRole).

The one named ``default`` in a namespace governs every ChangeRollout there: its approval roles
replace the ChangeRollout's own, a change's risk is never below ``minimumRisk``, its freezes hold
every change beside the ChangeRollout's own, and when ``overrideRoles`` is set only their members
may override the gates or force a promotion (the API server checks both, with the roles read from
this object).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from slokeeper.api.base import API_VERSION, GROUP, ObjectMeta, ResourceModel
from slokeeper.api.rollout import ChangeRolloutSpec
from slokeeper.api.rollout_gates import Approval, FreezePeriod, Risk

POLICY_NAME = "default"  # the ChangePolicy that governs a namespace
# On a copy of the operator namespace's default that the operator keeps where a namespace has none
# of its own: the original's namespace (its name is always POLICY_NAME).
COPIED_FROM_LABEL = f"{GROUP}/copied-from"
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

    freezes: list[FreezePeriod] = Field(
        default_factory=list,
        max_length=32,
        description="Periods in which no change of the namespace may start or be promoted, "
        "beside each ChangeRollout's own spec.gates.freezes (which cannot remove them).",
    )

    def risk_for(self, asked: Risk) -> Risk:
        """The risk a change counts as: what its ChangeRollout says, never below the floor."""
        return max(asked, self.minimum_risk, key=RISK_ORDER.index)

    def govern(self, spec: ChangeRolloutSpec, name: str = POLICY_NAME) -> ChangeRolloutSpec:
        """The ChangeRollout's spec as this policy holds it: its risk raised to the floor, its
        approvals replaced by the policy's when the policy has them, the policy's freezes
        added to its own (their reasons name the policy, ``name``)."""
        approval = self.approval or spec.gates.approval
        freezes = [
            *spec.gates.freezes,
            *(
                freeze.model_copy(update={"reason": _named(freeze.reason, name)})
                for freeze in self.freezes
            ),
        ]
        gates = spec.gates.model_copy(update={"approval": approval, "freezes": freezes})
        return spec.model_copy(update={"risk": self.risk_for(spec.risk), "gates": gates})


def _named(reason: str, policy: str) -> str:
    return f"ChangePolicy {policy}: {reason}" if reason else f"ChangePolicy {policy}"


def policy_name(policy: dict[str, Any]) -> str:
    """``<namespace>/<name>`` of a ChangePolicy as stored; of the original, for a copy."""
    metadata = policy.get("metadata") or {}
    copied = (metadata.get("labels") or {}).get(COPIED_FROM_LABEL)
    if copied:
        return f"{copied}/{POLICY_NAME}"
    return f"{metadata.get('namespace', '')}/{metadata.get('name', POLICY_NAME)}"


def govern(spec: ChangeRolloutSpec, policy: dict[str, Any] | None) -> ChangeRolloutSpec:
    """``spec`` as the ChangePolicy that governs its namespace (as the API server stores it)
    holds it; as written without one. Raises ``ValidationError`` for a policy that cannot be
    read."""
    if policy is None:
        return spec
    rules = ChangePolicySpec.model_validate(policy.get("spec") or {})
    return rules.govern(spec, policy_name(policy))


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
