"""User story: the burn-rate alerts slokeeper writes page and ticket when the SRE Workbook says
they should, checked by `promtool test rules` on synthetic traffic against our generated rules.

Expected times come from the workbook's formula: with healthy history, a constant error ratio
that burns the budget ``b`` times too fast makes a row with threshold ``k`` and long window ``L``
fire after ``L * k / b`` (its short window, ``S * k / b``, is always sooner). A rate of ``b`` below
every threshold never fires. Each check asserts silence before the expected time and the alert
after it, within the one-minute scrape/evaluation step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from burn_scenarios import HISTORY_MINUTES, Scenario
from promtool import replay, write_rule_file
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.slo.objective import Objective, RatioIndicator, RollingWindow
from slokeeper.slo.rules import ALERT_NAMES, rule_group, slo_labels
from slokeeper.slo.windows import DAY, WORKBOOK_30D

OBJECTIVE = Objective(
    namespace="shop",
    name="checkout-availability",
    service="checkout",
    target_percent=99.9,
    window=RollingWindow(30 * DAY),
    indicator=RatioIndicator(
        errors='sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))',
        total='sum(rate(http_requests_total{job="checkout"}[{{.window}}]))',
    ),
)
PAGE, TICKET = ALERT_NAMES.values()
ALLOWED = OBJECTIVE.allowed_error_ratio


def _minutes(text: str) -> int:
    number, unit = int(text[:-1]), text[-1]
    return number * {"m": 1, "h": 60, "d": 1440}[unit]


def _expected_alert(name: str) -> dict[str, Any]:
    kind = "page" if name == PAGE else "ticket"
    severity = "critical" if kind == "page" else "warning"
    # namespace: the SLO's, which Alertmanager routes key on (issue 23, point 7).
    labels = {**slo_labels(OBJECTIVE), "namespace": OBJECTIVE.namespace}
    return {"exp_labels": {**labels, "severity": severity, "slokeeper_alert": kind}}


def _checks(scenario: Scenario) -> list[dict[str, Any]]:
    start = scenario.healthy_minutes
    end = start + scenario.failing_minutes
    checks: list[dict[str, Any]] = []
    for name, kind in ((PAGE, "page"), (TICKET, "ticket")):
        rows = [row for row in WORKBOOK_30D if row.kind.value == kind]
        first = scenario.first_firing_minute(rows, ALLOWED) if scenario.healthy_minutes else None
        if scenario.healthy_minutes == 0 and scenario.burn_rate(ALLOWED) > min(
            r.burn_rate for r in rows
        ):
            first = 1  # no history: every window holds only failing traffic from the start
        if first is None:
            for minute in range(start, end + 1, max(1, (end - start) // 12)):
                checks.append({"eval_time": f"{minute}m", "alertname": name, "exp_alerts": []})
            continue
        before = start + first - 2
        if before > start:
            checks.append({"eval_time": f"{int(before)}m", "alertname": name, "exp_alerts": []})
        checks.append(
            {
                "eval_time": f"{int(start + first + 2)}m",
                "alertname": name,
                "exp_alerts": [_expected_alert(name)],
            }
        )
    return checks


HISTORY = HISTORY_MINUTES
SCENARIOS = [
    Scenario("a 100% error rate pages within 2 minutes", 1.0, HISTORY, 60),
    Scenario("a 2% error rate (20x) pages at 14.4/20 of the 1h window", 0.02, HISTORY, 240),
    Scenario("a 2% error rate from a new service's first request pages at once", 0.02, 0, 10),
    # Steady from the first request: no healthy history is needed for "never" (the windows hold
    # the same ratio throughout), and three days fill the longest window with it.
    Scenario("a steady 0.05% error rate never pages or tickets", 0.0005, 0, 3 * 1440),
    Scenario("a 0.2% error rate (2x) tickets after 36h and never pages", 0.002, HISTORY, 2 * 1440),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_burn_rate_alerts_fire_when_the_workbook_says(
    scenario: Scenario, toolchain: Toolchain, tmp_path: Path
) -> None:
    checks = _checks(scenario)
    tested = replay(
        toolchain.promtool,
        write_rule_file(tmp_path / "rules.yaml", rule_group(OBJECTIVE)),
        input_series=scenario.input_series(
            "http_requests_total", 'job="checkout",code="200"', 'job="checkout",code="500"'
        ),
        checks={"alert_rule_test": checks},
    )
    timeline = ", ".join(
        f"{check['alertname']}@{check['eval_time']}={'on' if check['exp_alerts'] else 'off'}"
        for check in checks
    )
    assert tested.returncode == 0, f"expected {timeline}\n{tested.stdout}{tested.stderr}"


def test_the_expected_times_are_the_workbooks() -> None:
    page_rows = [row for row in WORKBOOK_30D if row.kind.value == "page"]
    ticket_rows = [row for row in WORKBOOK_30D if row.kind.value == "ticket"]
    assert SCENARIOS[0].first_firing_minute(page_rows, ALLOWED) == pytest.approx(0.864)
    assert SCENARIOS[1].first_firing_minute(page_rows, ALLOWED) == pytest.approx(43.2)
    assert SCENARIOS[3].first_firing_minute(page_rows + ticket_rows, ALLOWED) is None
    assert SCENARIOS[4].first_firing_minute(page_rows, ALLOWED) is None
    assert SCENARIOS[4].first_firing_minute(ticket_rows, ALLOWED) == pytest.approx(_minutes("36h"))
