"""A ChangeRollout's status keeps the machine's state exactly (what a restarted operator resumes
from) and the record an SRE reads: steps with their analyses, decisions, and finished changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from slokeeper.api.rollout_status import ChangeRolloutStatus, PersonAction
from slokeeper.loops.rollout.status import TickFacts, next_status, state_from_status, status_json
from slokeeper.rollout.analysis import Measurement, Outcome, Verdict
from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import Command, Phase, Plan, State, World

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
PLAN = Plan(weights=(5, 25, 50), pauses_seconds=(60, 60, 60), failure_limit=2)
BURN = Measurement("slo/checkout-availability canary burn rate", 0.4, 2.0, True)


class Run:
    """Machine and status writer together, as the rollout loop uses them."""

    def __init__(self) -> None:
        self.status: dict[str, Any] = {}
        self.now = T0

    def tick(self, template: str, seconds: float = 0, **world: Any) -> State:
        self.now += timedelta(seconds=seconds)
        stored = ChangeRolloutStatus.model_validate(self.status)
        before = state_from_status(stored)
        verdict = world.pop("verdict_full", None)
        observed = World(template, 19, verdict=verdict.outcome if verdict else None, **world)
        after, actions = advance(PLAN, before, observed, self.now)
        facts = TickFacts(
            now=self.now,
            generation=1,
            target_images=(f"shop/checkout:{template}",),
            target_template=template,
            canary_weight_percent=5.0,
            verdict=verdict,
        )
        self.status = status_json(next_status(stored, PLAN, (before, after, actions), facts))
        # ... and stay valid for the API server
        written = ChangeRolloutStatus.model_validate(self.status)
        assert state_from_status(written) == after, "status must keep the state exactly"
        if written.current is not None:  # kubectl's STEP column counts from 1, as people do
            assert written.current.step_number == written.current.step + 1
        return after


PASS = Verdict(Outcome.PASS, "Every check passed.", 240, (BURN,))
FAIL = Verdict(Outcome.FAIL, "Failed: burn rate 200.", 240)


def test_a_promoted_change_is_recorded_step_by_step() -> None:
    run = Run()
    run.tick("v1")
    run.tick("v2")
    for _ in range(3):
        run.tick("v2")  # the step's canary pods seen Ready: its pause counts from here
        run.tick("v2", 61, verdict_full=PASS)
    assert run.tick("v2", 1, target_rolled_out=True).phase is Phase.SUCCEEDED
    status = run.status
    assert status["stable"] == {"templateHash": "v2", "images": ["shop/checkout:v2"]}
    assert "current" not in status
    change = status["history"][0]
    assert (change["outcome"], change["revision"]["templateHash"]) == ("Promoted", "v2")
    assert [s["weight"] for s in change["steps"]] == [5, 25, 50]
    assert all(s["passedAnalyses"] == 1 and s["finishedAt"] for s in change["steps"])
    assert change["steps"][0]["lastAnalysis"]["measurements"][0]["value"] == 0.4
    assert [d["reason"] for d in change["decisions"]] == [
        "CanaryStarted",
        "StepAdvanced",
        "StepAdvanced",
        "Promoting",
        "Promoted",
    ]
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Promoted")


def test_a_rolled_back_change_is_refused_and_marks_the_rollout_stalled() -> None:
    run = Run()
    run.tick("v1")
    run.tick("v2")
    run.tick("v2", 10, verdict_full=FAIL)
    assert run.tick("v2", 10, verdict_full=FAIL).phase is Phase.ROLLED_BACK
    status = run.status
    assert status["refusedRevisions"] == ["v2"]
    change = status["history"][0]
    assert (change["outcome"], change["reason"]) == ("RolledBack", "AnalysisFailed")
    assert change["failedAnalyses"] == 2
    assert change["steps"][0]["failedAnalyses"] == 2
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert stalled["status"] == "True"


def test_an_abort_is_recorded_as_aborted_with_who_asked() -> None:
    run = Run()
    run.tick("v1")
    run.tick("v2")
    stored = ChangeRolloutStatus.model_validate(run.status)
    before = state_from_status(stored)
    after, actions = advance(PLAN, before, World("v2", 19, command=Command.ABORT), run.now)
    alice = PersonAction(by="alice", at=run.now, reason="INC-7")
    facts = TickFacts(run.now, 1, ("shop/checkout:v2",), "v2", requests=[("abort", alice)])
    status = status_json(next_status(stored, PLAN, (before, after, actions), facts))
    change = status["history"][0]
    assert change["outcome"] == "Aborted"
    assert any(d["message"] == "abort by alice: INC-7" for d in change["decisions"])


steps = st.lists(
    st.tuples(
        st.sampled_from(["v1", "v2", "v3"]),
        st.integers(0, 90),
        st.sampled_from([None, PASS, FAIL, Verdict(Outcome.NOT_ENOUGH_TRAFFIC, "idle")]),
        st.booleans(),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)  # a loaded CI machine takes 0.7 s over one history
@given(steps)
def test_status_round_trips_the_state_over_random_histories(
    history: list[tuple[str, int, Verdict | None, bool]],
) -> None:
    run = Run()
    run.tick("v1")
    for template, seconds, verdict, rolled_out in history:
        run.tick(template, seconds, verdict_full=verdict, target_rolled_out=rolled_out)
    assert len(run.status.get("history", [])) <= 20
