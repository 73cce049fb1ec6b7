"""The operator's /metrics: a ChangeRollout's phase as a state set that disappears with it, and
each SLO's alert thresholds beside its burn rates."""

from __future__ import annotations

from prometheus_client import generate_latest

from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.loops.rollout_loop import TickResult
from slokeeper.loops.slo_loop import CycleReport
from slokeeper.rollout.analysis import Outcome
from slokeeper.rollout.state_machine import Phase
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
    metrics.observe_cycle(report, queries=1)
    text = exposition(metrics)
    assert (
        'slokeeper_slo_burn_rate_threshold{namespace="shop",severity="page",slo="checkout",'
        'window="1h"} 14.4' in text
    )
    assert 'slokeeper_slo_burn_rate{namespace="shop",slo="checkout",window="1h"} 2.5' in text
