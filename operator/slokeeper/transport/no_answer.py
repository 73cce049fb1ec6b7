"""Why a server did not answer, in a few words a person can act on. Used by the Prometheus and
Alertmanager clients for their messages and by the rollout scheduler for API server errors."""

from __future__ import annotations

import re

import requests

from slokeeper.transport.deadline import DeadlineExceededError
from slokeeper.transport.response_limit import ResponseTooLargeError


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what it was raised from or while handling, outermost first."""
    chain = [error]
    while len(chain) < 50:  # a chain that loops back on itself ends here
        cause = chain[-1].__cause__ or chain[-1].__context__
        if cause is None or cause in chain:
            break
        chain.append(cause)
    return chain


def _carried(error: BaseException) -> list[BaseException]:
    """Every error ``error`` carries: its causes and contexts, and what urllib3 wraps in its own
    (a MaxRetryError's ``reason``, a ProtocolError's arguments)."""
    found: list[BaseException] = []
    queue = [error]
    while queue and len(found) < 50:
        current = queue.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        inside = (current.__cause__, current.__context__, getattr(current, "reason", None))
        queue += [e for e in (*inside, *current.args) if isinstance(e, BaseException)]
    return found


def no_answer_reason(error: BaseException) -> str:
    """'Connection refused', 'timed out', 'no complete answer within 10s', 'answer larger than
    64 MiB, the most slokeeper reads', 'Name or service not known' … rather than urllib3's pool
    repr with the encoded URL."""
    carried = _carried(error)
    overdue = [e for e in carried if isinstance(e, DeadlineExceededError | ResponseTooLargeError)]
    if overdue:
        return str(overdue[0])
    if isinstance(error, requests.Timeout | TimeoutError) or "timed out" in str(error).lower():
        return "timed out"
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    if found:
        return found.group(1).strip().rstrip(".")
    return type(_causes(error)[-1]).__name__
