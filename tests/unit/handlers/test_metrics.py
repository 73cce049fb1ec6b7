"""The operator's /metrics: a ChangeRollout's phase as a state set that disappears with it, and
each SLO's alert thresholds beside its burn rates."""

from __future__ import annotations

from prometheus_client import generate_latest

from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.loops.rollout.loop import TickResult
from slokeeper.loops.slo.loop import CycleReport
from slokeeper.rollout.analysis import Outcome
from slokeeper.rollout.states import Phase
from slokeeper.slo.evaluation import Figures, Health


def exposition(metrics: OperatorMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_a_rollout_phase_is_one_state_of_a_set_and_goes_with_the_rollout() -> None:
    metrics = OperatorMetrics()
    key = ("shop", "checkout")
    metrics.observe_rollout(key, TickResult(Phase.PROGRESSING, 3.0, Outcome.PASS))
    text = exposition(metrics)
    assert (
        'slokeeper_rollout_phase{namespace="shop",phase="Progressing",rollout="checkout"} 1.0'
        in text
    )
    assert (
        'slokeeper_rollout_phase{namespace="shop",phase="Succeeded",rollout="checkout"} 0.0' in text
    )
    assert 'slokeeper_rollout_analyses_total{outcome="Pass"} 1.0' in text
    metrics.observe_rollout(key, None)
    assert 'rollout="checkout"' not in exposition(metrics)


def test_alert_thresholds_are_exported_beside_the_burn_rates() -> None:
    metrics = OperatorMetrics()
    report = CycleReport(slos=1)
    report.figures[("shop", "checkout")] = Figures(
        Health.OK,
        "",
        burn_rates=(("1h", 2.5),),
        alert_thresholds=(("page", "1h", 14.4), ("ticket", "1d", 3.0)),
    )
    metrics.observe_cycle(report)
    text = exposition(metrics)
    assert (
        'slokeeper_slo_burn_rate_threshold{namespace="shop",severity="page",slo="checkout",'
        'window="1h"} 14.4' in text
    )
    assert 'slokeeper_slo_burn_rate{namespace="shop",slo="checkout",window="1h"} 2.5' in text


def test_the_dora_four_per_rollout_come_from_its_change_records() -> None:
    metrics = OperatorMetrics()
    status = {
        "changeCounts": {"promoted": 3, "rolledBack": 1},
        "history": [
            {
                "outcome": "RolledBack",
                "startedAt": "2026-11-26T02:10:00+00:00",
                "finishedAt": "2026-11-26T02:10:40+00:00",
                "restoredAt": "2026-11-26T02:10:52+00:00",
            },
            {
                "outcome": "Promoted",
                "startedAt": "2026-11-26T02:00:00+00:00",
                "finishedAt": "2026-11-26T02:05:00+00:00",
            },
        ],
    }
    metrics.observe_rollout(("shop", "checkout"), TickResult(Phase.ROLLED_BACK, 30.0, None, status))
    text = exposition(metrics)
    labels = 'namespace="shop",rollout="checkout"'
    promoted = 'namespace="shop",outcome="Promoted",rollout="checkout"'
    rolled_back = 'namespace="shop",outcome="RolledBack",rollout="checkout"'
    assert f"slokeeper_rollout_changes_total{{{promoted}}} 3.0" in text
    assert f"slokeeper_rollout_changes_total{{{rolled_back}}} 1.0" in text
    assert f"slokeeper_rollout_lead_time_seconds{{{labels}}} 300.0" in text
    assert f"slokeeper_rollout_change_failure_ratio{{{labels}}} 0.25" in text
    assert f"slokeeper_rollout_time_to_restore_seconds{{{labels}}} 12.0" in text
    metrics.observe_rollout(("shop", "checkout"), None)
    assert 'rollout="checkout"' not in exposition(metrics)
