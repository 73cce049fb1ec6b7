"""The rollout state machine's values: its phases, the plan a ChangeRollout asks for, the state
kept in status between ticks, what a tick observed (``World``) and the actions that take the
cluster where the machine decided. ``state_machine`` holds the decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from slokeeper.rollout.analysis import Outcome


class Phase(StrEnum):
    IDLE = "Idle"
    BLOCKED = "Blocked"
    AWAITING_APPROVAL = "AwaitingApproval"
    WAITING_FOR_WINDOW = "WaitingForWindow"
    PAUSED = "Paused"
    PROGRESSING = "Progressing"
    PROMOTING = "Promoting"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"


REST_PHASES = frozenset({Phase.IDLE, Phase.SUCCEEDED, Phase.ROLLED_BACK})
GATE_PHASES = frozenset(
    {Phase.BLOCKED, Phase.AWAITING_APPROVAL, Phase.WAITING_FOR_WINDOW, Phase.PAUSED}
)


class NoDataAction(StrEnum):
    HOLD = "Hold"  # keep the step and ask again; roll back after max_inconclusive_seconds
    ROLLBACK = "Rollback"
    WAIT_FOR_PERSON = "WaitForPerson"  # keep the step, no time limit: abort, promote or a fix


class Command(StrEnum):
    ABORT = "abort"
    # Skip the current step's pause and analysis: the next step now, or the promotion from the
    # last step (`slokeeper rollout promote`, as `kubectl argo rollouts promote`).
    PROMOTE_STEP = "promote-step"
    PROMOTE = "promote"  # skip every remaining step and promote (`promote --full`)
    FORCE_PROMOTE = "force-promote"  # promote past the gates too: an on-call's explicit call
    RETRY = "retry"
    UNDO = "undo"  # the target's template was put back to a known-good one: roll it out now


class GateKind(StrEnum):
    OPEN = "Open"
    FREEZE = "Freeze"
    APPROVAL = "Approval"
    CALENDAR = "Calendar"
    PAUSED = "Paused"
    DRILL = "Drill"  # a recent rollback drill is required before the change may start


@dataclass(frozen=True)
class Gate:
    """The gates' combined answer for the candidate template, worked out by the loop.

    The most restrictive gate wins: Paused, then Freeze, Approval, Calendar. While a canary runs,
    Paused holds its steps and its promotion, Freeze holds its promotion; the others only stop a
    change from starting.
    """

    kind: GateKind = GateKind.OPEN
    message: str = ""


@dataclass(frozen=True)
class Plan:
    weights: tuple[float, ...] = (5.0, 25.0, 50.0)
    pauses_seconds: tuple[float, ...] = (300.0, 300.0, 300.0)
    failure_limit: int = 2
    on_prometheus_unreachable: NoDataAction = NoDataAction.HOLD
    on_not_enough_traffic: NoDataAction = NoDataAction.HOLD
    max_inconclusive_seconds: float = 1800.0
    automatic_rollback: bool = True
    progress_deadline_seconds: float = 600.0  # a step's canary pods must be Ready within it
    # How long the canary must have been Ready before "no traffic" is evidence (the analysis
    # window: before that, Prometheus may simply not have scraped it yet).
    evidence_seconds: float = 60.0


@dataclass(frozen=True)
class State:
    phase: Phase = Phase.IDLE
    stable: str | None = None
    candidate: str | None = None
    step: int = 0
    step_started: datetime | None = None
    failures: int = 0
    inconclusive_since: datetime | None = None
    held_until: datetime | None = None  # a Hold ends then; None for WaitForPerson
    unready_since: datetime | None = None  # the canary has lacked Ready pods since
    ready_since: datetime | None = None  # the step's canary has had all its pods Ready since
    promotion_started: datetime | None = None  # the target was resumed to promote at
    refused: tuple[str, ...] = ()
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class World:
    """What the loop observed this tick."""

    target_template: str
    stable_replicas: int
    target_rolled_out: bool = False
    verdict: Outcome | None = None
    verdict_message: str = ""
    gate: Gate = Gate()
    command: Command | None = None
    command_revision: str | None = None  # the template a command was given for (undo)
    undo_known_good: bool = False  # the target's template was stable here before
    # The target's template is its stable one with only kubectl.kubernetes.io/restartedAt changed.
    target_restarts_stable: bool = False
    canary_present: bool = False
    canary_ready: bool = True  # the canary runs the candidate with every pod its step asks for
    canary_problem: str = ""  # what its pods say while they are not Ready
    canary_replicas: int = 0  # the canary Deployment's replicas, as its spec says
    canary_ran: bool = False  # this change's canary ran before: one missing now was deleted
    # A tool other than slokeeper last set the canary's replicas ("kubectl-scale at …"), if one did.
    canary_scaled_by: str = ""
    # The canary Deployment runs a template nobody asked for (edited by hand).
    canary_foreign: str | None = None
    # Pods of the target's own ReplicaSets on a template other than stable, started outside the
    # rollout (a hand `rollout resume`), and who last changed the Deployment.
    target_unverified_pods: int = 0
    target_running_template: str | None = None  # what a paused target's pods all run
    target_changed_by: str = ""
    # While promoting: when the target's rollout last made progress (the Deployment's Progressing
    # condition), whether the Deployment itself gave up (ProgressDeadlineExceeded), and what its
    # new pods that are not Ready say.
    target_progressed_at: datetime | None = None
    target_stalled: bool = False
    target_problem: str = ""


@dataclass(frozen=True)
class PauseTarget:
    pass


@dataclass(frozen=True)
class ResumeTarget:
    pass


@dataclass(frozen=True)
class EnsureCanary:
    template: str
    replicas: int
    # The canary's replicas as the tick saw them (None: it saw no canary). A canary found changed
    # since — deleted, or scaled by another hand — is left for the next tick, which sees it, says
    # so as an OutOfBandChange, and puts it back.
    seen_replicas: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DeleteCanary:
    pass


@dataclass(frozen=True)
class RestoreStablePods:
    """Scale away the target's pods of every template but ``stable`` (they run a version no
    analysis passed) and let the Deployment bring its stable pods back to full strength."""

    stable: str


@dataclass(frozen=True)
class Event:
    reason: str
    message: str
    warning: bool = False


Action = PauseTarget | ResumeTarget | EnsureCanary | DeleteCanary | RestoreStablePods | Event
Result = tuple[State, tuple[Action, ...]]
