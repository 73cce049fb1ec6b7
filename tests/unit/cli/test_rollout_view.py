"""The demo's rollout view: one line per change in what an SRE would read."""

from __future__ import annotations

import io

from slokeeper.cli.rollout_view import RolloutView, describe

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
