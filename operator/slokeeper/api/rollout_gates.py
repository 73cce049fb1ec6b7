"""What must be open before a ChangeRollout's change may start or be promoted: the risk levels,
recurring change windows and freezes (converted to the core's ``ChangeCalendar``), approvals by
risk and by role, and the rollback-drill gate. Part of the spec in ``api.rollout``; each CEL rule
has a pydantic validator saying the same thing.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from slokeeper.api.base import Duration, ResourceModel, cel, cel_rules
from slokeeper.rollout.change_calendar import DAY_NAMES, ChangeCalendar, Freeze
from slokeeper.rollout.change_calendar import ChangeWindow as CoreChangeWindow

CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Risk(StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


class Weekday(StrEnum):
    MONDAY = "Mon"
    TUESDAY = "Tue"
    WEDNESDAY = "Wed"
    THURSDAY = "Thu"
    FRIDAY = "Fri"
    SATURDAY = "Sat"
    SUNDAY = "Sun"


class ChangeWindow(ResourceModel):
    """A recurring window in which changes may start, e.g. Tue and Thu 02:00-04:00."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("self.start != self.end", "start and end must differ", ".end"),
        )
    }

    days: list[Weekday] = Field(
        min_length=1,
        max_length=7,
        description="Days on which the window opens.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    start: str = Field(
        pattern=CLOCK_TIME, description="Opening time, HH:MM in the gates' time zone."
    )
    end: str = Field(
        pattern=CLOCK_TIME,
        description="Closing time, HH:MM; earlier than start means the window runs past midnight.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class FreezePeriod(ResourceModel):
    """A period in which no change may start or be promoted (a holiday freeze, an event)."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "timestamp(self.end) > timestamp(self.start)",
                "end must be after start",
                ".end",
            )
        )
    }

    start: datetime = Field(description="Start, RFC 3339 (e.g. 2026-12-20T00:00:00Z).")
    end: datetime = Field(description="End, RFC 3339.")
    reason: str = Field(default="", max_length=1024, description="Shown in status and Events.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


ROLE_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ApprovalRole(ResourceModel):
    """A role whose members may approve: Kubernetes groups and users, as the API server
    authenticates them (a client certificate's O= and CN=, an OIDC group claim)."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("size(self.groups) + size(self.users) > 0", "a role needs groups or users")
        )
    }

    name: str = Field(
        pattern=ROLE_NAME, max_length=40, description="The role, e.g. on-call or peer."
    )
    groups: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Kubernetes groups whose members may approve in this role.",
        json_schema_extra={
            "x-kubernetes-list-type": "set",
            "items": {"type": "string", "maxLength": 253},
        },
    )
    users: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Kubernetes usernames that may approve in this role.",
        json_schema_extra={
            "x-kubernetes-list-type": "set",
            "items": {"type": "string", "maxLength": 253},
        },
    )

    @model_validator(mode="after")
    def _has_members(self) -> Self:
        if not self.groups and not self.users:
            raise ValueError("a role needs groups or users")
        return self


def _role_names() -> dict[str, Any]:
    return {
        "x-kubernetes-list-type": "set",
        "items": {"type": "string", "maxLength": 40, "pattern": ROLE_NAME},
    }


class RiskRoles(ResourceModel):
    """For each risk level, the roles that must each approve (one approval per role, from
    distinct people)."""

    low: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles that must each approve a Low-risk change.",
        json_schema_extra=_role_names(),
    )
    medium: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles that must each approve a Medium-risk change.",
        json_schema_extra=_role_names(),
    )
    high: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Roles that must each approve a High-risk change.",
        json_schema_extra=_role_names(),
    )

    def for_risk(self, risk: Risk) -> list[str]:
        return {Risk.LOW: self.low, Risk.MEDIUM: self.medium, Risk.HIGH: self.high}[risk]


class Approval(ResourceModel):
    """Which risk levels need approvals before a change starts, and from whom."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "!has(self.riskRoles) || (self.riskRoles.low + self.riskRoles.medium"
                " + self.riskRoles.high).all(r, self.roles.exists(x, x.name == r))",
                "every role in riskRoles must be defined in roles",
                ".riskRoles",
            )
        )
    }

    required_for: list[Risk] = Field(
        default_factory=lambda: [Risk.HIGH],
        max_length=3,
        description="Risk levels whose changes wait for `slokeeper rollout approve` (any one "
        "approval), unless riskRoles names roles for that level.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    roles: list[ApprovalRole] = Field(
        default_factory=list,
        max_length=16,
        description="Who may approve in each role.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    risk_roles: RiskRoles | None = Field(
        default=None,
        description="Per risk level, the roles that must each approve, e.g. high: "
        "[engineering-manager, on-call]. The approvals are checked by the API server "
        "(the slokeeper-approvals ValidatingAdmissionPolicy): each names its giver, who must be in "
        "the role.",
    )

    @model_validator(mode="after")
    def _roles_defined(self) -> Self:
        if self.risk_roles is not None:
            defined = {role.name for role in self.roles}
            named = self.risk_roles.low + self.risk_roles.medium + self.risk_roles.high
            if any(role not in defined for role in named):
                raise ValueError("every role in riskRoles must be defined in roles")
        return self

    def roles_for(self, risk: Risk) -> list[str]:
        return self.risk_roles.for_risk(risk) if self.risk_roles else []


class DrillGate(ResourceModel):
    """Changes of these risk levels need a successful rollback drill within a period."""

    required_for: list[Risk] = Field(
        default_factory=list,
        max_length=3,
        description="Risk levels that need a recent successful `slokeeper rollout drill`.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    within: Duration = Field(default="30d", description="How recent the drill must be.")


class Gates(ResourceModel):
    """What must be open before a change may start or be promoted."""

    slo_budget_policies: list[str] = Field(
        default_factory=list,
        max_length=16,
        description=(
            "ServiceLevelObjectives (in this namespace) whose error-budget policy this rollout "
            "honours: freeze holds changes, requireApproval asks for an approval."
        ),
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    time_zone: str = Field(
        default="UTC",
        max_length=64,
        # The API server cannot list the zones: it refuses what cannot be a zone name, and a name
        # no zone has (Mars/Olympus) is refused by `slokeeper validate` and, in the operator,
        # holds every change (the target stays paused) until it is fixed.
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$",
        description="IANA time zone of the change windows, e.g. Europe/Berlin or UTC.",
    )
    change_windows: list[ChangeWindow] = Field(
        default_factory=list,
        max_length=16,
        description="When set, changes start only inside one of these windows.",
    )
    freezes: list[FreezePeriod] = Field(
        default_factory=list, max_length=32, description="Periods in which no change may proceed."
    )
    approval: Approval = Field(default_factory=Approval, description="Manual approval by risk.")
    drill: DrillGate = Field(
        default_factory=DrillGate, description="Rollback drills required before risky changes."
    )

    def change_calendar(self) -> ChangeCalendar:
        """The core's view of the change windows and freezes."""
        return ChangeCalendar(
            windows=tuple(
                CoreChangeWindow(
                    frozenset(DAY_NAMES.index(day.value) for day in window.days),
                    time.fromisoformat(window.start),
                    time.fromisoformat(window.end),
                )
                for window in self.change_windows
            ),
            freezes=tuple(
                Freeze(
                    freeze.start if freeze.start.tzinfo else freeze.start.replace(tzinfo=UTC),
                    freeze.end if freeze.end.tzinfo else freeze.end.replace(tzinfo=UTC),
                    freeze.reason,
                )
                for freeze in self.freezes
            ),
            time_zone=self.time_zone,
        )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, time_zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {time_zone!r}") from error
        return time_zone
