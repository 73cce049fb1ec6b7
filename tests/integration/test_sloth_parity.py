"""User story: a team moving from Sloth runs `slokeeper import sloth` on its spec and gets paged and
ticketed at the same moments as before.

Sloth v0.16.0 (built by the toolchain) generates its rules from the spec in
tests/unit/cli/migration/; slokeeper's come from the ServiceLevelObjective `slokeeper import`
makes of the same file. `promtool test rules` replays the same synthetic traffic through each rule
set, and the minute each alert first fires is read back from Prometheus' own ALERTS series. The
import keeps Sloth's alert name, so the team's Alertmanager routes match slokeeper's alerts too.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from burn_scenarios import HISTORY_MINUTES, Scenario
from promtool import replay, write_rule_file
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.migration import convert_sloth
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.slo.objective import AlertKind
from slokeeper.slo.rules import rule_group
from slokeeper.slo.windows import burn_rate_table

SPEC = Path(__file__).parents[1] / "unit" / "cli" / "migration" / "sloth-spec.yaml"
COUNTER = "http_request_duration_seconds_count"
SLOTH_ALERT = "MyServiceHighErrorRate"  # the spec's alerting.name; severity in sloth_severity

SCENARIOS = [
    Scenario("a 100% error rate", 1.0, HISTORY_MINUTES, 30),
    Scenario("a 2% error rate (20x)", 0.02, HISTORY_MINUTES, 240),
    Scenario("a 0.2% error rate (2x)", 0.002, HISTORY_MINUTES, 2 * 1440),
    Scenario("a steady 0.05% error rate", 0.0005, 0, 3 * 1440),  # from the first request
]
FIRST_FIRING = re.compile(r"got: \{[^}]*\} (\S+)")


def _our_objective() -> Any:
    converted = convert_sloth(yaml.safe_load(SPEC.read_text()), "default")
    return ServiceLevelObjective.model_validate(converted.slos[0]).to_objective()


def _sloth_rules(toolchain: Toolchain, directory: Path) -> Path:
    output = directory / "sloth-rules.yaml"
    generated = subprocess.run(
        [str(toolchain.sloth), "generate", "-i", str(SPEC), "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, f"sloth generate failed:\n{generated.stderr}"
    return output


def _first_firing_minutes(
    toolchain: Toolchain, rules: Path, scenario: Scenario, selectors: dict[AlertKind, str]
) -> dict[AlertKind, float | None]:
    """The minute each alert first fired, or None.

    promtool only asserts, so each question is asked with an expectation of nothing: the failure
    it reports carries the value that was there ("never" is asked to answer -1, so every question
    fails and is reported, in order).
    """
    end = scenario.healthy_minutes + scenario.failing_minutes
    # Sloth keeps its recording rules and its alerts in separate groups; promtool's default order
    # may run the alerts first, on the previous minute's recordings (a real Prometheus runs groups
    # on independent timers, so there the lag is anything up to one interval). In file order the
    # comparison is of the rules themselves.
    group_order = [group["name"] for group in yaml.safe_load(rules.read_text())["groups"]]
    questions = [
        {
            "expr": f"min(min_over_time(timestamp({selector})[{end}m:1m])) / 60 or vector(-1)",
            "eval_time": f"{end}m",
            "exp_samples": [],
        }
        for selector in selectors.values()
    ]
    tested = replay(
        toolchain.promtool,
        rules,
        input_series=scenario.input_series(
            COUNTER, 'job="myservice",code="200"', 'job="myservice",code="500"'
        ),
        checks={"promql_expr_test": questions},
        group_eval_order=group_order,
    )
    output = tested.stdout + tested.stderr
    answers = [float(value) for value in FIRST_FIRING.findall(output)]
    assert len(answers) == len(questions), f"unexpected promtool output:\n{output}"
    return {
        kind: None if answer < 0 else answer
        for kind, answer in zip(selectors, answers, strict=True)
    }


@pytest.mark.timeout(1800)  # two promtool replays of a month: 490 s on a loaded CI run
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_slokeeper_pages_and_tickets_when_sloth_does(
    scenario: Scenario, toolchain: Toolchain, tmp_path: Path
) -> None:
    objective = _our_objective()
    ours = tmp_path / "slokeeper-rules.yaml"
    write_rule_file(ours, rule_group(objective))
    ours_fired = _first_firing_minutes(
        toolchain,
        ours,
        scenario,
        {
            kind: f'ALERTS{{alertname="{SLOTH_ALERT}",slokeeper_alert="{kind.value}",'
            'alertstate="firing"}'
            for kind in (AlertKind.PAGE, AlertKind.TICKET)
        },
    )
    sloth_fired = _first_firing_minutes(
        toolchain,
        _sloth_rules(toolchain, tmp_path),
        scenario,
        {
            kind: f'ALERTS{{alertname="{SLOTH_ALERT}",sloth_severity="{kind.value}",'
            'alertstate="firing"}'
            for kind in (AlertKind.PAGE, AlertKind.TICKET)
        },
    )
    table = burn_rate_table(objective)
    expected = {
        kind: scenario.first_firing_minute(
            [row for row in table if row.kind is kind], objective.allowed_error_ratio
        )
        for kind in (AlertKind.PAGE, AlertKind.TICKET)
    }
    print(f"{scenario.id}: slokeeper {ours_fired}, sloth {sloth_fired}, workbook {expected}")
    assert ours_fired == sloth_fired, f"slokeeper {ours_fired} but Sloth {sloth_fired}"
    for kind, minute in expected.items():
        fired = ours_fired[kind]
        if minute is None:
            assert fired is None, f"{kind.value} fired at minute {fired}; the workbook says never"
        else:
            assert fired is not None, f"{kind.value} never fired; the workbook says {minute:.1f}"
            assert abs(fired - scenario.healthy_minutes - minute) <= 2, (kind, fired, minute)
