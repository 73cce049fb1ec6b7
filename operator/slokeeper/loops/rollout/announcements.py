"""Events for what people asked in one tick (the decisions' Events come with the actions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from slokeeper.api.references import ObjectRef
from slokeeper.api.rollout_status import PersonAction
from slokeeper.loops.rollout.status import TickFacts
from slokeeper.rollout.requests import PersonRequest, Request


class EventPort(Protocol):
    def record(
        self, owner: ObjectRef, reason: str, message: str, warning: bool = False
    ) -> None: ...


def announce_pause(events: EventPort, owner: ObjectRef, facts: TickFacts, was_paused: bool) -> None:
    if facts.paused is not None and not was_paused:
        why = f": {facts.paused.reason}" if facts.paused.reason else ""
        events.record(owner, "RolloutPaused", f"Paused by {facts.paused.who}{why}.")
    if facts.paused is None and was_paused:
        events.record(owner, "RolloutResumed", "The pause annotation was removed.")


def announce_requests(
    events: EventPort,
    owner: ObjectRef,
    requests: Mapping[Request, PersonRequest],
    facts: TickFacts,
) -> None:
    """Each request acted on, or why it was not (a drill needs a rollout at rest, an override
    a reason and a change waiting at the gates)."""
    for request, person in requests.items():
        if request is Request.DRILL and facts.drill is None:
            events.record(
                owner,
                "DrillRefused",
                f"Drill by {person.who} not started: a drill needs the rollout at rest on its "
                "stable template, with no canary.",
                warning=True,
            )
        elif request is Request.APPROVE and not any(
            a.by == person.by and a.reason == person.reason and not a.role for a in facts.approvals
        ):
            events.record(
                owner,
                "ApprovalRefused",
                f"Approval by {person.who} ignored: it names template "
                f"{person.revision or '(none)'}, not the change waiting "
                f"({facts.target_template}); `slokeeper rollout approve` names it.",
                warning=True,
            )
        elif request is Request.OVERRIDE and facts.override is None:
            events.record(
                owner,
                "OverrideRefused",
                f"Override by {person.who} ignored: an override needs a reason and a change "
                f"waiting at the gates, and names its template ({facts.target_template}).",
                warning=True,
            )
        else:
            events.record(owner, f"{request.value.capitalize()}Requested", person.signed())
    if facts.override is not None:
        events.record(
            owner,
            "GateOverridden",
            f"Gates overridden for {facts.target_template} by "
            f"{facts.override.who}: {facts.override.reason}",
            warning=True,
        )


def announce_roles(
    events: EventPort,
    owner: ObjectRef,
    given: list[PersonAction],
    refused: list[tuple[PersonRequest, str]],
) -> None:
    for approval in given:
        why = f": {approval.reason}" if approval.reason else ""
        events.record(owner, "Approved", f"{approval.by} approved as {approval.role}{why}")
    for request, why in refused:
        events.record(
            owner,
            "ApprovalRefused",
            f"{request.who} cannot approve as {request.role}: {why}.",
            warning=True,
        )
