"""What people ask of a change: abort, promote, retry, approve, override, a drill, or a pause;
each signed by who asked and why (the adapter reads them from annotations)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from slokeeper.rollout.states import Command

ANONYMOUS = "someone"  # how a request that names nobody is signed in Events and status


class Request(StrEnum):
    ABORT = "abort"
    PROMOTE = "promote"
    RETRY = "retry"
    APPROVE = "approve"
    OVERRIDE = "override"
    DRILL = "drill"
    UNDO = "undo"  # the CLI put the target back on a known-good template (revision: its hash)
    RESTART = "restart"  # the CLI restarted the stable pods (recorded: who and why)


@dataclass(frozen=True)
class PersonRequest:
    request: Request | None  # None: the pause annotation
    by: str = ""
    reason: str = ""
    force: bool = False
    # A promote of the current step only (what `slokeeper rollout promote` asks); without it a
    # promote skips every remaining step, as the annotation always meant.
    one_step: bool = False
    revision: str | None = None
    role: str | None = None
    given_at: datetime | None = None  # when it was set, as the API server recorded it

    @property
    def who(self) -> str:
        return self.by or ANONYMOUS

    def signed(self) -> str:
        """``by: reason`` as Events and gate messages show it."""
        return f"{self.who}: {self.reason}" if self.reason else self.who


@dataclass(frozen=True)
class PendingRequests:
    """Everything people have asked of one ChangeRollout that the operator has not yet acted on:
    requests (acted on once, then removed), approvals in a role, and the pause (a state, kept
    while it is there)."""

    requests: Mapping[Request, PersonRequest] = field(default_factory=dict)
    roles: Mapping[str, PersonRequest] = field(default_factory=dict)
    pause: PersonRequest | None = None

    def command(self) -> Command | None:
        """The command for the state machine; an undo (an abort and more) wins over everything
        else, then an abort."""
        if Request.UNDO in self.requests:
            return Command.UNDO
        if Request.ABORT in self.requests:
            return Command.ABORT
        if Request.PROMOTE in self.requests:
            promote = self.requests[Request.PROMOTE]
            if promote.force:
                return Command.FORCE_PROMOTE  # an on-call's "ship it now": every step, past gates
            return Command.PROMOTE_STEP if promote.one_step else Command.PROMOTE
        if Request.RETRY in self.requests:
            return Command.RETRY
        return None
