"""Requests the operator read but will not act on, beside the ones it will: the request adapter
(``kube.rollout_commands``) returns them, the rollout loop says why in an Event and removes them
with the others once the tick is recorded."""

from __future__ import annotations

from dataclasses import dataclass

from slokeeper.rollout.requests import PendingRequests


@dataclass(frozen=True)
class Refusal:
    """One request annotation refused: its key, its value as written and why."""

    key: str
    value: str
    why: str


@dataclass(frozen=True)
class CheckedRequests(PendingRequests):
    """What people asked, with the requests refused (never acted on) beside the others."""

    refused: tuple[Refusal, ...] = ()
