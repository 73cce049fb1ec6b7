"""The demo's rollout view: one line per change in what an SRE would read."""

from __future__ import annotations

import io

from slokeeper.cli.rollout_view import LivePanel, RolloutView, describe, history_table, panel

STEP = {"step": 1, "weight": 25, "canaryWeightPercent": 20}
PASS = {
    "outcome": "Pass",
    "canaryRequests": 159.0,
    "measurements": [
        {"name": "slo/checkout canary burn rate", "value": 0.4, "threshold": 2, "passed": True}
    ],
}
IDLE = {"outcome": "NotEnoughTraffic", "message": "The canary served 0 requests; 50 are needed."}


def _progressing(analysis: dict[str, object]) -> dict[str, object]:
    return {"phase": "Progressing", "current": {"step": 1, "steps": [STEP], "analyses": [analysis]}}


def test_a_step_shows_its_actual_weight_and_latest_figures() -> None:
    line = describe(_progressing(PASS))
    assert "step 2, canary 20% of pods (planned 25%)" in line
    assert "Pass: 159 canary requests; checkout burn rate 0.4 (limit 2) ok" in line
    assert describe(_progressing(IDLE)).endswith(
        "NotEnoughTraffic: The canary served 0 requests; 50 are needed."
    )


def test_the_phase_reason_and_message_outside_a_step() -> None:
    status = {"phase": "Blocked", "reason": "Blocked", "message": "SLO x has 0.0% left."}
    assert describe(status) == "Blocked          Blocked: SLO x has 0.0% left."


def test_a_line_is_printed_only_when_it_changes() -> None:
    out = io.StringIO()
    view = RolloutView(out)
    for status in (_progressing(PASS), _progressing(PASS), _progressing(IDLE)):
        view.show(status)
    assert len(out.getvalue().splitlines()) == 2


def _rollout(status: dict[str, object]) -> dict[str, object]:
    return {
        "metadata": {"namespace": "shop", "name": "checkout"},
        "spec": {
            "targetRef": {"name": "checkout"},
            "risk": "High",
            "steps": [{"weight": 5, "pause": "1m"}, {"weight": 25, "pause": "1m"}],
        },
        "status": status,
    }


RUNNING = {
    "phase": "Progressing",
    "reason": "AnalysisPassed",
    "stable": {"templateHash": "00fdf5cdebc9bf73", "images": ["shop/checkout:1.1"]},
    "current": {
        "revision": {"templateHash": "e745237c2ce645b0", "images": ["shop/checkout:1.2"]},
        "startedAt": "2026-11-26T01:55:02Z",
        "step": 0,
        "steps": [
            {
                "step": 0,
                "weight": 5,
                "canaryWeightPercent": 20,
                "startedAt": "2026-11-26T01:55:03Z",
                "passedAnalyses": 2,
                "inconclusiveAnalyses": 1,
            }
        ],
        "analyses": [{**PASS, "time": "2026-11-26T01:55:31Z"}],
        "approvals": [{"by": "bob", "reason": "CHG-12", "at": "2026-11-26T01:55:02Z"}],
    },
}


def test_the_panel_shows_revisions_gates_every_step_and_the_latest_figures() -> None:
    lines = panel(_rollout(RUNNING))
    text = "\n".join(lines)
    assert lines[0] == "shop/checkout: Progressing (AnalysisPassed)"
    assert "stable 00fdf5cd (shop/checkout:1.1)" in text
    assert "change    e745237c (shop/checkout:1.2), seen 01:55:02, risk High" in text
    assert 'gates     open [approved by bob "CHG-12"]' in text
    step_rows = [line for line in lines if line[:1] in (">", " ") and line[2:3].isdigit()]
    assert step_rows[0].startswith("> 1")
    assert "20%" in step_rows[0]
    assert "2/0/1" in step_rows[0]
    assert step_rows[1].startswith("  2")
    assert step_rows[1].rstrip().endswith("-")
    assert "analysis  Pass at 01:55:31: 159 canary requests" in text


def test_a_gate_shows_what_holds_the_change() -> None:
    waiting = {"phase": "AwaitingApproval", "message": "Risk High needs an approval."}
    assert "  gates     Risk High needs an approval." in panel(_rollout(waiting))


def test_the_live_panel_redraws_in_place_only_when_it_changes() -> None:
    out = io.StringIO()
    live = LivePanel(out)
    live.show(_rollout(RUNNING))
    live.show(_rollout(RUNNING))
    first = out.getvalue()
    assert "\x1b[" not in first
    live.show(_rollout({**RUNNING, "phase": "Succeeded", "reason": "Promoted"}))
    redraw = out.getvalue()[len(first) :]
    assert redraw.startswith(f"\x1b[{len(panel(_rollout(RUNNING)))}F\x1b[J")
    assert "shop/checkout: Succeeded (Promoted)" in redraw


def test_history_lists_each_change_with_outcome_timing_and_approvers_then_the_tally() -> None:
    status = {
        "history": [
            {
                "revision": {"templateHash": "e745237c2ce645b0", "images": ["shop/checkout:1.3"]},
                "startedAt": "2026-11-26T01:55:02+00:00",
                "finishedAt": "2026-11-26T01:55:40+00:00",
                "outcome": "RolledBack",
                "reason": "AnalysisFailed",
                "steps": [{"step": 0}],
                "approvals": [{"by": "carol", "role": "engineering-manager"}],
            },
            {
                "revision": {"templateHash": "00fdf5cdebc9bf73", "images": ["shop/checkout:1.2"]},
                "startedAt": "2026-11-26T01:50:00+00:00",
                "finishedAt": "2026-11-26T01:52:05+00:00",
                "outcome": "Promoted",
                "reason": "Promoted",
                "steps": [{"step": 0}, {"step": 1}, {"step": 2}],
            },
        ],
        "changeCounts": {"promoted": 7, "rolledBack": 2},
    }
    lines = history_table(status)
    assert lines[0].split() == [
        "REVISION", "IMAGES", "SEEN", "TOOK", "OUTCOME", "REASON", "STEPS", "APPROVED", "BY"
    ]  # fmt: skip
    assert lines[1].split()[:2] == ["e745237c", "shop/checkout:1.3"]
    assert "38s    RolledBack  AnalysisFailed  1      carol (engineering-manager)" in lines[1]
    assert "2m05s" in lines[2]
    assert lines[2].rstrip().endswith("3      -")
    assert lines[-1] == "All changes: 7 promoted, 2 rolled back, 0 aborted, 0 superseded."
    status["changeCounts"]["outOfBand"] = 3
    assert history_table(status)[-1].endswith("superseded; 3 changes by hand put back.")
