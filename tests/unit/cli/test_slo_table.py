"""`slokeeper status`: the table an SRE reads at 3 a.m."""

from __future__ import annotations

from typing import Any

from slokeeper.cli.slo_table import budget_bar, render, runs_out, slo_rows


def _slo(name: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "shop", "name": name},
        "spec": {"target": 99.9},
        "status": status,
    }


def test_the_budget_bar_fills_with_what_is_left_and_shouts_when_overspent() -> None:
    assert budget_bar(0.35) == "[#######.............]   35.0%"
    assert budget_bar(1.0) == "[####################]  100.0%"
    assert budget_bar(-0.5) == "[!!!!!!!!!!!!!!!!!!!!]  -50.0%"
    assert budget_bar(None).startswith("[????")


def test_one_row_per_slo_with_sli_burn_policy_and_readiness() -> None:
    healthy = _slo(
        "checkout-availability",
        sliRatio=0.99962,
        errorBudgetRemainingRatio=0.62,
        burnRates=[{"window": "5m", "burnRate": 0.4}, {"window": "1h", "burnRate": 0.38}],
        policyAction="none",
        conditions=[{"type": "Ready", "status": "True", "reason": "Evaluated"}],
    )
    broken = _slo(
        "checkout-latency", conditions=[{"type": "Ready", "status": "False", "reason": "NoData"}]
    )
    rows = slo_rows([broken, healthy])
    assert rows[1][:4] == ["shop", "checkout-availability", "99.9%", "99.962%"]
    assert rows[1][5:] == ["5m=0.4x 1h=0.38x", "-", "none", "yes"]
    assert rows[2][3:] == ["-", budget_bar(None), "-", "-", "-", "NoData"]
    table = render(rows).splitlines()
    assert table[0].split() == [
        "NAMESPACE", "NAME", "TARGET", "SLI", "ERROR", "BUDGET", "LEFT", "BURN", "RUNS", "OUT",
        "POLICY", "READY",
    ]  # fmt: skip
    assert len({line.index("99.9%") for line in table[1:]}) == 1, "columns line up"


def test_the_earliest_exhaustion_before_the_window_ends_is_shown() -> None:
    burning = {
        "budgetExhaustion": [
            {"window": "1h", "burnRate": 6.0, "secondsLeft": 216000, "beforeWindowEnds": True},
            {"window": "3d", "burnRate": 1.2, "secondsLeft": 1100000, "beforeWindowEnds": True},
        ]
    }
    assert runs_out(burning) == "in 2.5d (1h)"
    slow = {
        "budgetExhaustion": [
            {"window": "3d", "burnRate": 0.2, "secondsLeft": 9e6, "beforeWindowEnds": False}
        ]
    }
    assert runs_out(slow) == "-"
    spent = {
        "budgetExhaustion": [
            {"window": "1h", "burnRate": 3, "secondsLeft": 0, "beforeWindowEnds": True}
        ]
    }
    assert runs_out(spent) == "spent"
