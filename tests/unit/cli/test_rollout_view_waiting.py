"""What `rollout status` and `rollout get` say a running step waits for, with the time left: a
hold without a verdict, a person, or the canary's pods."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slokeeper.cli.rollout_view import describe, panel, waiting

NOW = datetime(2026, 11, 26, 2, 0, 0, tzinfo=UTC)


def _rollout(reason: str, **current: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "shop", "name": "checkout"},
        "spec": {"targetRef": {"name": "checkout"}, "progressDeadline": "10m"},
        "status": {
            "phase": "Progressing",
            "reason": reason,
            "current": {"revision": {"templateHash": "e745237c"}, "step": 0, **current},
        },
    }


def test_a_hold_shows_the_time_left_before_its_rollback() -> None:
    held = _rollout(
        "PrometheusUnreachable",
        inconclusiveSince="2026-11-26T01:50:00Z",
        heldUntil="2026-11-26T02:20:00Z",
    )
    assert waiting(held, NOW) == (
        "held without a verdict (PrometheusUnreachable), 20m00s left: rolled back at 02:20:00 "
        "UTC unless a verdict comes first"
    )
    assert "  waiting   held without a verdict (PrometheusUnreachable), 20m00s left" in "\n".join(
        panel(held, NOW)
    )
    assert describe(held["status"]).endswith(" | held until 02:20:00 UTC")


def test_waiting_for_a_person_says_there_is_no_time_limit() -> None:
    waits = _rollout("QueryInvalid", inconclusiveSince="2026-11-26T01:50:00Z")
    assert waiting(waits, NOW).startswith("waits for a person (QueryInvalid), no time limit")
    assert describe(waits["status"]).endswith(" | waits for a person")
    assert waiting(_rollout("RollbackHeld"), NOW).startswith("waits for a person (RollbackHeld)")


def test_a_canary_not_ready_shows_the_time_left_of_its_progress_deadline() -> None:
    stuck = _rollout("CanaryNotReady", canaryUnreadySince="2026-11-26T01:59:15Z")
    assert waiting(stuck, NOW) == (
        "canary pods not Ready since 01:59:15, 9m15s left of the 10m progress deadline: "
        "rolled back at 02:09:15 UTC"
    )
    assert describe(stuck["status"]).endswith(" | CanaryNotReady")
    assert describe(_rollout("Paused")["status"]).endswith(" | Paused")


def test_past_the_time_it_says_none_left_and_a_step_on_plan_waits_for_nothing() -> None:
    late = _rollout("CanaryNotReady", canaryUnreadySince="2026-11-26T01:40:00Z")
    assert "0s left" in waiting(late, NOW)
    assert waiting(_rollout("AnalysisPassed"), NOW) == ""
    assert not [line for line in panel(_rollout("AnalysisPassed"), NOW) if "waiting" in line]
    done = _rollout("Promoted")
    done["status"]["phase"] = "Succeeded"
    assert waiting(done, NOW) == ""
