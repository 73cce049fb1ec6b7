"""One SLO's failure stays that SLO's: the SLO loop asks here, before the batched steps of a cycle,
whether an SLO can be computed at all, and reads Prometheus so that one SLO the reader cannot
handle does not take every other SLO's figures with it.

An SLO that slipped past admission (created before the CRD had its bounds, or a bug of ours) used
to raise in the middle of the cycle (ZeroDivisionError, OverflowError, ValueError) and stop every
SLO's evaluation until it was deleted. Called by ``loops.slo.loop``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from slokeeper.loops.slo.record import Key
from slokeeper.slo.budget import burn_rate
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.evaluation import Health, Observation
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import recorded_windows, rule_counts, rule_group, written_queries

log = logging.getLogger(__name__)

EVALUATION_FAILED = Health.EVALUATION_FAILED.value
# Reads a failed batch may spend finding the SLOs it fails on (halving it each time): a few bad
# SLOs among thousands are found in about 2·log2(N) reads each; past this, the rest wait.
ISOLATION_READS = 64

ReadFigures = Callable[[Sequence[Objective], datetime], dict[Key, Observation]]


def one_line(error: BaseException) -> str:
    """The error as a person reads it in a condition or an Event: its kind and message, one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:1024] if text else type(error).__name__


def spec_problem(objective: Objective) -> str | None:
    """Why nothing can be computed for this SLO, whatever Prometheus says: its rules, their
    counts and its queries cannot be built, or its target leaves no error budget. Depends on the
    spec only, so the loop asks once per generation."""
    try:
        rule_group(objective)
        rule_counts(objective)
        written_queries(objective, min(recorded_windows(objective)))
        burn_rate(0.0, objective.allowed_error_ratio)
    except Exception as error:  # whatever it is, it is this SLO's alone
        return one_line(error)
    return None


def span_problem(objective: Objective, now: datetime) -> str | None:
    """Why this SLO's measurement span cannot be computed at ``now`` (asked every cycle)."""
    try:
        measurement_span(objective.window, now)
    except Exception as error:
        return one_line(error)
    return None


def read_isolated(
    read: ReadFigures, objectives: Sequence[Objective], now: datetime
) -> tuple[dict[Key, Observation], dict[Key, str]]:
    """Every SLO's observation, and why it could not be read for those whose read raised.

    One batched read when it succeeds (every cycle, normally); when it raises, the batch is
    halved until the SLOs it raises on are found, within ``ISOLATION_READS`` reads.
    """
    budget = [ISOLATION_READS]
    observations: dict[Key, Observation] = {}
    failures: dict[Key, str] = {}

    def attempt(batch: Sequence[Objective]) -> None:
        try:
            observations.update(read(batch, now))
            return
        except Exception as error:
            problem = one_line(error)
        if len(batch) == 1 or budget[0] <= 0:
            log.warning("could not read the figures of %d SLO(s): %s", len(batch), problem)
            failures.update({(o.namespace, o.name): problem for o in batch})
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            budget[0] -= 1
            attempt(half)

    if objectives:
        attempt(objectives)
    return observations, failures
