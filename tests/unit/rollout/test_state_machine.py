"""The rollout state machine, row by row, and its invariants over random histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from slokeeper.rollout.analysis import Outcome
from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import (
    GATE_PHASES,
    REST_PHASES,
    Command,
    DeleteCanary,
    EnsureCanary,
    Event,
    Gate,
    GateKind,
    NoDataAction,
    PauseTarget,
    Phase,
    Plan,
    RestoreStablePods,
    ResumeTarget,
    State,
    World,
)

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
PLAN = Plan(weights=(5, 25, 50), pauses_seconds=(60, 60, 60), failure_limit=2)
STABLE = State(Phase.IDLE, stable="v1")


def _world(template: str = "v2", **changes: object) -> World:
    return World(**{"target_template": template, "stable_replicas": 20, **changes})  # type: ignore[arg-type]


def _reasons(actions: tuple[object, ...]) -> list[str]:
    return [a.reason for a in actions if isinstance(a, Event)]


def test_a_new_rollout_adopts_the_running_template_and_pauses_the_target() -> None:
    state, actions = advance(PLAN, State(), _world("v1"), T0)
    assert (state.phase, state.stable) == (Phase.IDLE, "v1")
    assert PauseTarget() in actions
    assert _reasons(actions) == ["Adopted"]


def test_a_good_template_goes_5_25_50_and_is_promoted() -> None:
    state, actions = advance(PLAN, STABLE, _world(), T0)
    assert state.phase is Phase.PROGRESSING
    assert EnsureCanary("v2", 1) in actions  # 1 of 21 pods: the closest share to 5 %
    now = T0
    seen_steps = [state.step]
    for _ in range(3):
        state, _ = advance(PLAN, state, _world(), now)  # the step's canary pods seen Ready
        state, _ = advance(PLAN, state, _world(verdict=Outcome.PASS), now + timedelta(seconds=30))
        assert state.step == seen_steps[-1], "a step must not advance before its pause is over"
        now += timedelta(seconds=61)
        state, actions = advance(PLAN, state, _world(verdict=Outcome.PASS), now)
        seen_steps.append(state.step)
    assert seen_steps == [0, 1, 2, 2]
    assert state.phase is Phase.PROMOTING
    assert ResumeTarget() in actions
    state, actions = advance(PLAN, state, _world(target_rolled_out=False), now)
    assert (state.phase, actions) == (Phase.PROMOTING, (ResumeTarget(),))
    state, actions = advance(PLAN, state, _world(target_rolled_out=True), now)
    assert (state.phase, state.stable, state.candidate) == (Phase.SUCCEEDED, "v2", None)
    assert DeleteCanary() in actions
    assert PauseTarget() in actions


def test_a_bad_template_is_rolled_back_refused_and_retried_only_on_request() -> None:
    state, _ = advance(PLAN, STABLE, _world(), T0)
    state, actions = advance(PLAN, state, _world(verdict=Outcome.FAIL), T0)
    assert (state.phase, state.failures) == (Phase.PROGRESSING, 1)
    state, actions = advance(PLAN, state, _world(verdict=Outcome.FAIL), T0)
    assert state.phase is Phase.ROLLED_BACK
    assert state.refused == ("v2",)
    assert DeleteCanary() in actions
    assert _reasons(actions) == ["AnalysisFailed"]
    # The same template again: no run.
    again, actions = advance(PLAN, state, _world(), T0)
    assert again.phase is Phase.ROLLED_BACK
    assert not any(isinstance(a, EnsureCanary) for a in actions)
    # Back to stable: the failed state clears.
    cleared, actions = advance(PLAN, state, _world("v1"), T0)
    assert cleared.phase is Phase.IDLE
    assert _reasons(actions) == ["RevertedToStable"]
    # retry runs the refused template again.
    retried, _ = advance(PLAN, state, _world(command=Command.RETRY), T0)
    assert retried.phase is Phase.PROGRESSING
    assert retried.refused == ()


def test_gates_hold_a_change_until_they_open() -> None:
    freeze = Gate(GateKind.FREEZE, "SLO checkout-availability: 0% of the error budget left")
    state, actions = advance(PLAN, STABLE, _world(gate=freeze), T0)
    assert state.phase is Phase.BLOCKED
    assert "checkout-availability" in state.message
    assert _reasons(actions) == ["Blocked"]
    approval = Gate(GateKind.APPROVAL, "High risk: waiting for an approval")
    state, _ = advance(PLAN, state, _world(gate=approval), T0)
    assert state.phase is Phase.AWAITING_APPROVAL
    state, actions = advance(PLAN, state, _world(), T0)
    assert state.phase is Phase.PROGRESSING
    assert EnsureCanary("v2", 1) in actions


def test_no_verdict_holds_then_rolls_back_after_the_limit() -> None:
    plan = Plan(max_inconclusive_seconds=300)
    state, _ = advance(plan, STABLE, _world(), T0)
    quiet = _world(verdict=Outcome.NOT_ENOUGH_TRAFFIC, verdict_message="12 requests")
    state, actions = advance(plan, state, quiet, T0 + timedelta(seconds=10))
    assert (state.phase, state.reason) == (Phase.PROGRESSING, "NotEnoughTraffic")
    assert _reasons(actions) == ["NotEnoughTraffic"]
    state, actions = advance(plan, state, quiet, T0 + timedelta(seconds=200))
    assert state.phase is Phase.PROGRESSING
    assert _reasons(actions) == []  # the same hold is not announced twice
    state, _ = advance(plan, state, quiet, T0 + timedelta(seconds=311))
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "InconclusiveTooLong")


def test_prometheus_unreachable_can_be_set_to_roll_back_at_once() -> None:
    plan = Plan(on_prometheus_unreachable=NoDataAction.ROLLBACK)
    state, _ = advance(plan, STABLE, _world(), T0)
    state, _ = advance(plan, state, _world(verdict=Outcome.PROMETHEUS_UNREACHABLE), T0)
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "PrometheusUnreachable")


def test_abort_rolls_back_and_promote_skips_the_remaining_steps() -> None:
    running, _ = advance(PLAN, STABLE, _world(), T0)
    aborted, actions = advance(PLAN, running, _world(command=Command.ABORT), T0)
    assert (aborted.phase, aborted.reason) == (Phase.ROLLED_BACK, "Aborted")
    assert DeleteCanary() in actions
    promoted, actions = advance(PLAN, running, _world(command=Command.PROMOTE), T0)
    assert promoted.phase is Phase.PROMOTING
    assert ResumeTarget() in actions


def test_promote_waits_for_a_freeze_unless_forced() -> None:
    running, _ = advance(PLAN, STABLE, _world(), T0)
    frozen = Gate(GateKind.FREEZE, "budget spent")
    held, actions = advance(PLAN, running, _world(command=Command.PROMOTE, gate=frozen), T0)
    assert held.phase is Phase.PROGRESSING
    assert _reasons(actions) == ["PromoteRefused"]
    forced, _ = advance(PLAN, running, _world(command=Command.FORCE_PROMOTE, gate=frozen), T0)
    assert forced.phase is Phase.PROMOTING


def test_a_paused_rollout_neither_starts_nor_advances_but_still_rolls_back() -> None:
    paused = Gate(GateKind.PAUSED, "paused by alice")
    waiting, _ = advance(PLAN, STABLE, _world(gate=paused), T0)
    assert waiting.phase is Phase.PAUSED
    running, _ = advance(PLAN, STABLE, _world(), T0)
    running, _ = advance(PLAN, running, _world(), T0)  # its canary pods seen Ready
    later = T0 + timedelta(seconds=61)
    held, _ = advance(PLAN, running, _world(verdict=Outcome.PASS, gate=paused), later)
    assert (held.step, held.reason) == (0, "Paused")
    resumed, _ = advance(PLAN, held, _world(verdict=Outcome.PASS), later)
    assert resumed.step == 1, "the step's pause kept counting while paused"
    failing = _world(verdict=Outcome.FAIL, gate=paused)
    state, _ = advance(PLAN, running, failing, later)
    state, _ = advance(PLAN, state, failing, later)
    assert state.phase is Phase.ROLLED_BACK


def test_without_automatic_rollback_a_failed_canary_waits_for_a_person() -> None:
    plan = Plan(weights=(5, 50), pauses_seconds=(60, 60), failure_limit=1, automatic_rollback=False)
    running, _ = advance(plan, STABLE, _world(), T0)
    held, actions = advance(plan, running, _world(verdict=Outcome.FAIL), T0)
    assert (held.phase, held.reason) == (Phase.PROGRESSING, "RollbackHeld")
    assert any(isinstance(a, EnsureCanary) for a in actions), "the canary stays for inspection"
    later = T0 + timedelta(seconds=120)
    still, _ = advance(plan, held, _world(verdict=Outcome.PASS), later)
    assert (still.phase, still.step) == (Phase.PROGRESSING, 0), "a later pass does not promote"
    aborted, actions = advance(plan, still, _world(command=Command.ABORT), later)
    assert aborted.phase is Phase.ROLLED_BACK
    assert DeleteCanary() in actions


def test_a_refused_template_set_again_is_reported_not_run() -> None:
    reverted = State(Phase.IDLE, stable="v1", refused=("v2",))
    refused, actions = advance(PLAN, reverted, _world("v2"), T0)
    assert (refused.phase, refused.reason) == (Phase.ROLLED_BACK, "TemplateRefused")
    assert _reasons(actions) == ["TemplateRefused"]
    again, actions = advance(PLAN, refused, _world("v2"), T0)
    assert again == refused
    assert not _reasons(actions)
    retried, _ = advance(PLAN, refused, _world("v2", command=Command.RETRY), T0)
    assert (retried.phase, retried.refused) == (Phase.PROGRESSING, ())


def test_a_leftover_canary_is_removed_at_rest() -> None:
    rolled_back = State(Phase.ROLLED_BACK, stable="v1", refused=("v2",))
    _, actions = advance(PLAN, rolled_back, _world("v2", canary_present=True), T0)
    assert DeleteCanary() in actions


def test_a_newer_template_supersedes_the_running_canary() -> None:
    running, _ = advance(PLAN, STABLE, _world("v2"), T0)
    state, actions = advance(PLAN, running, _world("v3"), T0)
    assert (state.phase, state.candidate) == (Phase.PROGRESSING, "v3")
    assert actions[0] == DeleteCanary()
    assert EnsureCanary("v3", 1) in actions


worlds = st.builds(
    World,
    target_template=st.sampled_from(["v1", "v2", "v3"]),
    stable_replicas=st.integers(0, 30),
    target_rolled_out=st.booleans(),
    verdict=st.one_of(st.none(), st.sampled_from(list(Outcome))),
    gate=st.sampled_from([Gate(kind, kind.value) for kind in GateKind]),
    command=st.one_of(st.none(), st.sampled_from(list(Command))),
    canary_present=st.booleans(),
    target_unverified_pods=st.sampled_from([0, 0, 2]),
    command_revision=st.sampled_from([None, "v1", "v2", "v3"]),
    undo_known_good=st.booleans(),
    target_restarts_stable=st.sampled_from([False, False, True]),
)


@settings(max_examples=300)
@given(st.lists(st.tuples(worlds, st.integers(0, 120)), min_size=1, max_size=40))
def test_invariants_over_random_histories(history: list[tuple[World, int]]) -> None:
    state, now = STABLE, T0
    for world, seconds in history:
        now += timedelta(seconds=seconds)
        before = state
        state, actions = advance(PLAN, state, world, now)
        canaries = [a for a in actions if isinstance(a, EnsureCanary)]
        # The canary weight is never zero while a step runs.
        assert all(a.replicas >= 1 for a in canaries)
        if state.phase is Phase.PROMOTING and before.phase is not Phase.PROMOTING:
            # Never promote on a failed or missing analysis, unless a person asked, undid to
            # a template stable here before, or restarted the stable one.
            undone = world.command is Command.UNDO and world.undo_known_good
            if (undone and world.command_revision == world.target_template) or (
                world.target_restarts_stable and state.reason == "Restart"
            ):
                continue
            forced = world.command is Command.FORCE_PROMOTE
            assert before.phase is Phase.PROGRESSING or forced
            assert (
                forced
                or (world.command is Command.PROMOTE and world.gate.kind is not GateKind.FREEZE)
                or (
                    world.command is Command.PROMOTE_STEP
                    and world.gate.kind is not GateKind.FREEZE
                    and before.step == len(PLAN.weights) - 1
                )
                or (world.verdict is Outcome.PASS and before.step == len(PLAN.weights) - 1)
            )
            assert forced or world.gate.kind not in (GateKind.FREEZE, GateKind.PAUSED)
        if state.phase in REST_PHASES | GATE_PHASES:
            assert not canaries, "no canary may run outside a step"
            if before.phase in (Phase.PROGRESSING, Phase.PROMOTING) or world.canary_present:
                assert DeleteCanary() in actions
        if state.phase is not Phase.PROMOTING:
            assert ResumeTarget() not in actions
            if world.target_unverified_pods:
                # Outside a promotion, pods of a template no analysis passed never stay.
                assert RestoreStablePods(str(state.stable)) in actions


def test_a_query_typo_or_wait_for_person_holds_with_no_time_limit() -> None:
    plan = Plan(on_not_enough_traffic=NoDataAction.WAIT_FOR_PERSON, max_inconclusive_seconds=60)
    for outcome, active in ((Outcome.QUERY_INVALID, PLAN), (Outcome.NOT_ENOUGH_TRAFFIC, plan)):
        state, _ = advance(active, STABLE, _world(), T0)
        for minutes in (0, 10, 600):
            now = T0 + timedelta(minutes=minutes)
            state, _ = advance(active, state, _world(verdict=outcome), now)
            assert (state.phase, state.reason) == (Phase.PROGRESSING, outcome.value)


def test_a_canary_whose_pods_never_become_ready_is_rolled_back_at_the_progress_deadline() -> None:
    plan = Plan(weights=(5, 25), pauses_seconds=(60, 60), progress_deadline_seconds=600)
    state, _ = advance(plan, STABLE, _world(), T0)
    problem = "pod checkout-canary-x container app ErrImageNeverPull"
    stuck = _world(canary_present=True, canary_ready=False, canary_problem=problem)
    state, actions = advance(plan, state, stuck, T0 + timedelta(seconds=5))
    assert (state.phase, state.unready_since) == (Phase.PROGRESSING, T0 + timedelta(seconds=5))
    assert _reasons(actions) == [], "waiting for pods is not news"
    state, actions = advance(plan, state, stuck, T0 + timedelta(seconds=604))
    assert state.phase is Phase.PROGRESSING, "the deadline runs from when the pods were missed"
    state, actions = advance(plan, state, stuck, T0 + timedelta(seconds=605))
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "ProgressDeadlineExceeded")
    assert "ErrImageNeverPull" in state.message
    assert "600s" in state.message
    assert DeleteCanary() in actions
    assert "v2" in state.refused


def test_pods_that_become_ready_in_time_clear_the_progress_deadline() -> None:
    plan = Plan(weights=(5, 25), pauses_seconds=(60, 60), progress_deadline_seconds=600)
    state, _ = advance(plan, STABLE, _world(), T0)
    state, _ = advance(plan, state, _world(canary_ready=False), T0 + timedelta(seconds=5))
    state, _ = advance(plan, state, _world(canary_present=True), T0 + timedelta(seconds=300))
    assert state.unready_since is None
    # Not Ready again later in the step (a pod crashed): the deadline starts over from then.
    state, _ = advance(plan, state, _world(canary_ready=False), T0 + timedelta(seconds=500))
    state, _ = advance(plan, state, _world(canary_ready=False), T0 + timedelta(seconds=1050))
    assert state.phase is Phase.PROGRESSING


def test_no_traffic_rolls_back_only_after_the_canary_was_ready_a_whole_window() -> None:
    plan = Plan(
        weights=(25, 50),
        pauses_seconds=(60, 60),
        on_not_enough_traffic=NoDataAction.ROLLBACK,
        evidence_seconds=60,
    )
    state, _ = advance(plan, STABLE, _world(), T0)
    quiet = _world(canary_present=True, verdict=Outcome.NOT_ENOUGH_TRAFFIC, verdict_message="0")
    # Ready from T0+5 s: Prometheus may not have scraped the new pods yet.
    state, _ = advance(plan, state, quiet, T0 + timedelta(seconds=5))
    assert (state.phase, state.ready_since) == (Phase.PROGRESSING, T0 + timedelta(seconds=5))
    assert "Ready for 0s of the 60s analysis window" in state.message
    state, _ = advance(plan, state, quiet, T0 + timedelta(seconds=64))
    assert state.phase is Phase.PROGRESSING
    state, actions = advance(plan, state, quiet, T0 + timedelta(seconds=65))
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "NotEnoughTraffic")
    assert DeleteCanary() in actions


def test_the_evidence_clock_starts_again_when_a_step_grows_the_canary() -> None:
    plan = Plan(
        weights=(25, 50),
        pauses_seconds=(10, 60),
        on_not_enough_traffic=NoDataAction.ROLLBACK,
        evidence_seconds=60,
    )
    state, _ = advance(plan, STABLE, _world(), T0)
    state, _ = advance(plan, state, _world(canary_present=True, verdict=Outcome.PASS), T0)
    state, _ = advance(
        plan, state, _world(canary_present=True, verdict=Outcome.PASS), T0 + timedelta(seconds=90)
    )
    assert (state.step, state.ready_since) == (1, None)
    grown = _world(canary_present=True, canary_ready=False)
    state, _ = advance(plan, state, grown, T0 + timedelta(seconds=95))
    quiet = _world(canary_present=True, verdict=Outcome.NOT_ENOUGH_TRAFFIC, verdict_message="0")
    state, _ = advance(plan, state, quiet, T0 + timedelta(seconds=100))
    state, _ = advance(plan, state, quiet, T0 + timedelta(seconds=150))
    assert state.phase is Phase.PROGRESSING, "ready for 50 s of the new step: not yet evidence"


def test_a_steps_pause_counts_from_when_its_canary_pods_are_all_ready() -> None:
    """Pods slow to start do not shorten the step: a 60 s pause is 60 s at the step's weight."""
    state, _ = advance(PLAN, STABLE, _world(), T0)
    starting = _world(canary_present=True, canary_ready=False)
    state, _ = advance(PLAN, state, starting, T0 + timedelta(seconds=5))
    passing = _world(canary_present=True, verdict=Outcome.PASS)
    state, _ = advance(PLAN, state, passing, T0 + timedelta(seconds=50))  # every pod Ready now
    state, _ = advance(PLAN, state, passing, T0 + timedelta(seconds=100))
    assert (state.step, state.reason) == (0, "AnalysisPassed"), "Ready for 50 s of the 60 s pause"
    state, actions = advance(PLAN, state, passing, T0 + timedelta(seconds=110))
    assert (state.step, _reasons(actions)) == (1, ["StepAdvanced"])


def _promoting(plan: Plan = PLAN) -> State:
    running, _ = advance(plan, STABLE, _world(), T0)
    promoting, actions = advance(plan, running, _world(command=Command.PROMOTE), T0)
    assert promoting.phase is Phase.PROMOTING
    assert ResumeTarget() in actions
    assert promoting.promotion_started == T0
    return promoting


def test_an_aborted_promotion_puts_the_target_back_on_its_stable_pods() -> None:
    half_way = _world(command=Command.ABORT, target_unverified_pods=2)
    state, actions = advance(PLAN, _promoting(), half_way, T0)
    assert (state.phase, state.reason, state.refused) == (Phase.ROLLED_BACK, "Aborted", ("v2",))
    assert actions.index(PauseTarget()) < actions.index(RestoreStablePods("v1"))
    assert "OutOfBandChange" not in _reasons(actions), "the promotion's own pods are not news"


def test_a_promotion_without_progress_is_rolled_back_at_the_progress_deadline() -> None:
    plan = Plan(weights=(5, 25), pauses_seconds=(60, 60), progress_deadline_seconds=600)
    state = _promoting(plan)
    pending = "pod checkout-7f9c container app Unschedulable: 0/1 nodes are available"
    stuck = _world(target_unverified_pods=2, target_problem=pending)
    state, actions = advance(plan, state, stuck, T0 + timedelta(seconds=599))
    assert (state.phase, actions) == (Phase.PROMOTING, (ResumeTarget(),))
    # Progress (a new pod Ready at 500 s) moves the deadline on.
    moved = _world(target_unverified_pods=2, target_progressed_at=T0 + timedelta(seconds=500))
    state, _ = advance(plan, state, moved, T0 + timedelta(seconds=1099))
    assert state.phase is Phase.PROMOTING
    state, actions = advance(plan, state, moved, T0 + timedelta(seconds=1100))
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "ProgressDeadlineExceeded")
    assert "600s" in state.message
    assert "v2" in state.refused
    assert RestoreStablePods("v1") in actions
    assert DeleteCanary() in actions


def test_the_deployments_own_progress_deadline_ends_a_promotion_at_once() -> None:
    stalled = _world(target_stalled=True, target_problem="pod x ImagePullBackOff")
    state, _ = advance(PLAN, _promoting(), stalled, T0 + timedelta(seconds=1))
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "ProgressDeadlineExceeded")
    assert "ImagePullBackOff" in state.message


def test_a_template_changed_during_promotion_stops_it_on_the_stable_pods() -> None:
    # The stable manifest re-applied mid-promotion: back to Idle, the target paused and its
    # pods of the half-promoted template scaled away — not left unpaused.
    state, actions = advance(PLAN, _promoting(), _world("v1", target_unverified_pods=2), T0)
    assert (state.phase, state.candidate) == (Phase.IDLE, None)
    assert PauseTarget() in actions
    assert RestoreStablePods("v1") in actions
    assert ResumeTarget() not in actions
    assert "Superseded" in _reasons(actions)


def test_a_hand_resume_at_the_gates_is_undone_and_said_with_who_did_it() -> None:
    gate = Gate(GateKind.APPROVAL, "Needs an approval.")
    waiting, _ = advance(PLAN, STABLE, _world(gate=gate), T0)
    assert waiting.phase is Phase.AWAITING_APPROVAL
    resumed = _world(gate=gate, target_unverified_pods=3, target_changed_by="kubectl-set at 12:00")
    state, actions = advance(PLAN, waiting, resumed, T0)
    assert state.phase is Phase.AWAITING_APPROVAL
    assert actions.index(PauseTarget()) < actions.index(RestoreStablePods("v1"))
    notice = next(a for a in actions if isinstance(a, Event) and a.reason == "OutOfBandChange")
    assert notice.warning
    assert "3 pod(s)" in notice.message
    assert "kubectl-set at 12:00" in notice.message


def test_a_canary_edited_by_hand_runs_the_candidate_again_and_is_said() -> None:
    running, _ = advance(PLAN, STABLE, _world(), T0)
    edited = _world(canary_present=True, canary_ready=False, canary_foreign="c0ffee")
    state, actions = advance(PLAN, running, edited, T0 + timedelta(seconds=5))
    assert state.phase is Phase.PROGRESSING
    assert EnsureCanary("v2", 1) in actions
    assert "OutOfBandChange" in _reasons(actions)


@settings(max_examples=100)
@given(
    st.sampled_from([p for p in Phase if p not in REST_PHASES]),
    st.sampled_from([kind for kind in GateKind]),
)
def test_every_phase_under_way_ends_on_abort(phase: Phase, gate: GateKind) -> None:
    running = State(phase, stable="v1", candidate="v2", step_started=T0, promotion_started=T0)
    state, actions = advance(PLAN, running, _world(command=Command.ABORT, gate=Gate(gate)), T0)
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "Aborted")
    assert ResumeTarget() not in actions
    assert PauseTarget() in actions


@settings(max_examples=100)
@given(st.sampled_from([Phase.PROGRESSING, Phase.PROMOTING]), st.integers(0, 10_000))
def test_every_phase_that_waits_on_pods_ends_at_the_progress_deadline(
    phase: Phase, started_seconds_ago: int
) -> None:
    plan = Plan(progress_deadline_seconds=600)
    started = T0 - timedelta(seconds=started_seconds_ago)
    state = State(
        phase, stable="v1", candidate="v2", step_started=started, promotion_started=started
    )
    stuck = _world(canary_present=True, canary_ready=False, target_unverified_pods=1)
    for seconds in range(0, 1300, 100):
        state, _ = advance(plan, state, stuck, T0 + timedelta(seconds=seconds))
        if state.phase is Phase.ROLLED_BACK:
            break
    assert (state.phase, state.reason) == (Phase.ROLLED_BACK, "ProgressDeadlineExceeded")


def test_undo_to_a_known_good_template_rolls_it_out_past_gates_and_refuses_the_undone_one() -> None:
    succeeded = State(Phase.SUCCEEDED, stable="v2", refused=("v0",))
    undo = _world(
        "v1",
        command=Command.UNDO,
        command_revision="v1",
        undo_known_good=True,
        gate=Gate(GateKind.FREEZE, "budget spent"),
    )
    state, actions = advance(PLAN, succeeded, undo, T0)
    assert (state.phase, state.candidate, state.reason) == (Phase.PROMOTING, "v1", "Undo")
    assert state.refused == ("v0", "v2")
    assert ResumeTarget() in actions
    assert not [a for a in actions if isinstance(a, EnsureCanary)], "no canary for an undo"
    done, _ = advance(PLAN, state, _world("v1", target_rolled_out=True), T0)
    assert (done.phase, done.stable) == (Phase.SUCCEEDED, "v1")


def test_undo_of_a_running_canary_rolls_it_back_and_refuses_it() -> None:
    running, _ = advance(PLAN, STABLE, _world("v2"), T0)
    undo = _world("v1", command=Command.UNDO, command_revision="v1")
    state, actions = advance(PLAN, running, undo, T0)
    assert (state.phase, state.reason, state.refused) == (Phase.ROLLED_BACK, "Undone", ("v2",))
    assert DeleteCanary() in actions
    assert ResumeTarget() not in actions


def test_undo_to_a_template_never_stable_here_goes_through_the_canary() -> None:
    undo = _world("v9", command=Command.UNDO, command_revision="v9", undo_known_good=False)
    state, actions = advance(PLAN, STABLE, undo, T0)
    assert state.phase is Phase.PROGRESSING
    assert EnsureCanary("v9", 1) in actions


def test_a_restart_of_the_stable_template_rolls_out_without_a_canary_or_gates() -> None:
    restart = _world(
        "v1-restarted", target_restarts_stable=True, gate=Gate(GateKind.APPROVAL, "approve")
    )
    state, actions = advance(PLAN, STABLE, restart, T0)
    assert (state.phase, state.candidate, state.reason) == (
        Phase.PROMOTING,
        "v1-restarted",
        "Restart",
    )
    assert ResumeTarget() in actions
    assert not [a for a in actions if isinstance(a, EnsureCanary)]


def test_a_hold_says_until_when_and_waiting_for_a_person_says_so() -> None:
    hold = Plan(on_not_enough_traffic=NoDataAction.HOLD, max_inconclusive_seconds=600)
    state, _ = advance(hold, STABLE, _world(), T0)
    state, _ = advance(hold, state, _world(verdict=Outcome.PROMETHEUS_UNREACHABLE), T0)
    assert "Held until 12:10:00 UTC (600s without a verdict), then rolled back." in state.message
    state, _ = advance(PLAN, STABLE, _world(), T0)
    state, _ = advance(PLAN, state, _world(verdict=Outcome.QUERY_INVALID), T0)
    assert "Waits for a person, with no time limit" in state.message


def test_a_promote_skips_one_step_and_a_full_promote_every_step() -> None:
    running, _ = advance(PLAN, STABLE, _world(), T0)
    # No analysis yet, well inside the step's pause: a person moves it on.
    stepped, actions = advance(PLAN, running, _world(command=Command.PROMOTE_STEP), T0)
    assert (stepped.phase, stepped.step, stepped.step_started) == (Phase.PROGRESSING, 1, T0)
    assert EnsureCanary("v2", 7) in actions  # 7 of 27 pods: 25 %
    assert _reasons(actions) == ["StepPromotedByHand"]
    last, _ = advance(PLAN, stepped, _world(command=Command.PROMOTE_STEP), T0)
    assert (last.phase, last.step) == (Phase.PROGRESSING, 2)
    # From the last step, a promote is the promotion.
    promoted, actions = advance(PLAN, last, _world(command=Command.PROMOTE_STEP), T0)
    assert (promoted.phase, promoted.reason) == (Phase.PROMOTING, "PromotedByHand")
    assert ResumeTarget() in actions
    full, _ = advance(PLAN, running, _world(command=Command.PROMOTE), T0)
    assert full.phase is Phase.PROMOTING


def test_a_skipped_step_starts_its_own_pause_and_needs_its_own_analysis() -> None:
    running, _ = advance(PLAN, STABLE, _world(), T0)
    stepped, _ = advance(PLAN, running, _world(command=Command.PROMOTE_STEP), T0)
    stepped, _ = advance(PLAN, stepped, _world(), T0)  # the new step's canary pods seen Ready
    soon = T0 + timedelta(seconds=30)
    held, _ = advance(PLAN, stepped, _world(verdict=Outcome.PASS), soon)
    assert held.step == 1, "the new step's pause is whole: 30 s of 60 s is not enough"
    later = T0 + timedelta(seconds=61)
    on, _ = advance(PLAN, held, _world(verdict=Outcome.PASS), later)
    assert on.step == 2


def test_a_pause_holds_a_step_promote_and_a_freeze_only_the_promotion() -> None:
    running, _ = advance(PLAN, STABLE, _world(), T0)
    paused = Gate(GateKind.PAUSED, "paused by alice")
    held, actions = advance(PLAN, running, _world(command=Command.PROMOTE_STEP, gate=paused), T0)
    assert (held.step, _reasons(actions)) == (0, ["PromoteRefused"])
    frozen = Gate(GateKind.FREEZE, "budget spent")
    stepped, _ = advance(PLAN, running, _world(command=Command.PROMOTE_STEP, gate=frozen), T0)
    assert stepped.step == 1, "a freeze holds promotion, not the steps of the plan"
    last = replace(stepped, step=2)
    refused, actions = advance(PLAN, last, _world(command=Command.PROMOTE_STEP, gate=frozen), T0)
    assert (refused.phase, _reasons(actions)) == (Phase.PROGRESSING, ["PromoteRefused"])


def test_a_canary_held_at_its_failure_limit_needs_a_person_at_each_step() -> None:
    plan = replace(PLAN, automatic_rollback=False)
    state, _ = advance(plan, STABLE, _world(), T0)
    for _ in range(2):
        state, _ = advance(plan, state, _world(verdict=Outcome.FAIL), T0)
    assert state.reason == "RollbackHeld"
    stepped, _ = advance(plan, state, _world(command=Command.PROMOTE_STEP), T0)
    assert stepped.step == 1
    later = T0 + timedelta(seconds=120)
    still, _ = advance(plan, stepped, _world(verdict=Outcome.PASS), later)
    assert still.step == 1, "past its failure limit the canary moves only when a person says"


@settings(max_examples=200)
@given(st.lists(st.tuples(worlds, st.integers(0, 120)), min_size=1, max_size=30))
def test_a_person_moves_a_canary_at_most_one_step_per_promote(
    history: list[tuple[World, int]],
) -> None:
    state, now = STABLE, T0
    for world, seconds in history:
        now += timedelta(seconds=seconds)
        before = state
        state, _ = advance(PLAN, state, world, now)
        same_canary = state.candidate == before.candidate
        if before.phase is Phase.PROGRESSING and state.phase is Phase.PROGRESSING and same_canary:
            assert before.step <= state.step <= before.step + 1
        # The same change promoted (not a newer template that is a restart, promoted at once).
        stepped_into_promotion = (
            before.phase is Phase.PROGRESSING and state.phase is Phase.PROMOTING and same_canary
        )
        if world.command is Command.PROMOTE_STEP and stepped_into_promotion:
            assert before.step == len(PLAN.weights) - 1, "one step, not the rest of the plan"
