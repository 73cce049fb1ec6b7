"""Events for the requests the operator refused to act on (a JSON value in another form than
`slokeeper rollout` writes: what the API server's policy read may not be what it says)."""

from __future__ import annotations

from slokeeper.api.references import ObjectRef
from slokeeper.api.refused_requests import CheckedRequests
from slokeeper.loops.rollout.announcements import EventPort
from slokeeper.rollout.requests import PendingRequests

SHOWN = 200  # of a refused value, in the Event


def announce_refused(events: EventPort, owner: ObjectRef, asked: PendingRequests) -> None:
    """One warning Event per refused request, saying why and how to ask again."""
    if not isinstance(asked, CheckedRequests):
        return
    for refusal in asked.refused:
        events.record(
            owner,
            "RequestRefused",
            f"{refusal.key}={refusal.value[:SHOWN]} was not acted on: {refusal.why}. Ask again "
            f"with slokeeper rollout, or as <username>[: reason].",
            warning=True,
        )
