"""Test-only fault injection: SIGKILL the operator right after a ChangeRollout status with a
given phase is written and before it is acted on, the moment a crash hurts most.

Off unless ``SLOKEEPER_TEST_CRASH_AFTER=<phase>`` is set (the restart tests in
``tests/integration/test_rollout_restarts.py`` set it); not a user setting, so not a flag.
The composition root passes ``status_written_hook()`` to the rollout loop.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable

from slokeeper.rollout.states import Phase

CRASH_AFTER_ENV = "SLOKEEPER_TEST_CRASH_AFTER"

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
