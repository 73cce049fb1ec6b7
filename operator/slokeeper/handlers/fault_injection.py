"""Test-only fault injection: SIGKILL the operator right after a ChangeRollout status with a
given phase is written and before it is acted on, the moment a crash hurts most; or make every
tick of a rollout in a given phase fail, as a bug would.

Off unless ``SLOKEEPER_TEST_CRASH_AFTER=<phase>`` (the restart tests in
``tests/integration/test_rollout_restarts.py``) or ``SLOKEEPER_TEST_FAIL_TICK_IN=<phase>`` (the
fail-safe test in ``tests/integration/test_rollout_fail_safe.py``) is set; not user settings, so
not flags. The composition root passes both hooks to the rollout loop.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable

from slokeeper.rollout.states import Phase

CRASH_AFTER_ENV = "SLOKEEPER_TEST_CRASH_AFTER"
FAIL_TICK_ENV = "SLOKEEPER_TEST_FAIL_TICK_IN"

log = logging.getLogger("slokeeper")


def crash_after(phase_name: str | None) -> Callable[[Phase], None]:
    """A hook that SIGKILLs this process once a status in ``phase_name`` is written (None:
    never)."""

    def maybe_crash(phase: Phase) -> None:
        if phase.value == phase_name:
            log.warning("test fault injection: SIGKILL after writing phase %s", phase.value)
            os.kill(os.getpid(), signal.SIGKILL)

    return maybe_crash


def status_written_hook() -> Callable[[Phase], None]:
    """The hook ``SLOKEEPER_TEST_CRASH_AFTER`` asks for."""
    return crash_after(os.environ.get(CRASH_AFTER_ENV))


def tick_observed_hook() -> Callable[[Phase], None]:
    """Raises, like a bug, in every tick of a rollout in the phase ``SLOKEEPER_TEST_FAIL_TICK_IN``
    names (never when it is unset)."""
    phase_name = os.environ.get(FAIL_TICK_ENV)

    def maybe_fail(phase: Phase) -> None:
        if phase.value == phase_name:
            raise RuntimeError(f"test fault injection: a tick in {phase.value} fails")

    return maybe_fail
