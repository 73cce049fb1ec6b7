"""`rollout status` answers for the change the target's template asks for now: the previous
change's Succeeded does not end a --watch, a rolled-back or refused template exits 3 with or
without --watch, and a --watch that gives up exits 4."""

from __future__ import annotations

from slokeeper.cli.rollout_outcome import EXIT_ROLLED_BACK, EXIT_TIMED_OUT, exit_code

PROMOTED_V1 = {"phase": "Succeeded", "stable": {"templateHash": "v1"}}
ROLLED_BACK_V2 = {
    "phase": "RolledBack",
    "stable": {"templateHash": "v1"},
    "history": [{"revision": {"templateHash": "v2"}}],
    "refusedRevisions": ["v2"],
}


def test_a_change_not_yet_seen_by_the_operator_is_not_the_last_ones_success() -> None:
    assert exit_code(PROMOTED_V1, "v2", watched=True) == EXIT_TIMED_OUT
    assert exit_code(PROMOTED_V1, "v2", watched=False) == 0
    assert exit_code(PROMOTED_V1, "v1", watched=True) == 0


def test_a_rolled_back_template_exits_3_with_and_without_watch() -> None:
    assert exit_code(ROLLED_BACK_V2, "v2", watched=True) == EXIT_ROLLED_BACK
    assert exit_code(ROLLED_BACK_V2, "v2", watched=False) == EXIT_ROLLED_BACK


def test_reverting_to_stable_after_a_rollback_waits_for_the_operator_to_settle() -> None:
    assert exit_code(ROLLED_BACK_V2, "v1", watched=True) == EXIT_TIMED_OUT
    assert exit_code({**ROLLED_BACK_V2, "phase": "Idle"}, "v1", watched=True) == 0


def test_a_change_under_way_or_a_gone_target() -> None:
    progressing = {"phase": "Progressing", "stable": {"templateHash": "v1"}}
    assert exit_code(progressing, "v2", watched=True) == EXIT_TIMED_OUT
    assert exit_code(progressing, "v2", watched=False) == 0
    assert exit_code(PROMOTED_V1, None, watched=True) == 0
