"""User story: "orders data under 15 minutes old, 99 % of the time". The ETL job stalls for an hour;
once its data is 15 minutes old every minute counts against the budget, the page alert fires as
the workbook says for a 100 % error ratio, and the hour's error ratio is the share of minutes the
data was stale. The same stall told by a timestamp, a lag gauge or a bool gauge reads the same.

`promtool test rules` replays it through the rules slokeeper writes, evaluated every minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from promtool import replay, write_rule_file
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.slo.objective import (
    AlertKind,
    FreshnessIndicator,
    FreshnessSource,
    Objective,
    RollingWindow,
)
from slokeeper.slo.rules import ALERT_NAMES, ERROR_RATIO, rule_group, slo_labels
from slokeeper.slo.windows import DAY

PAGE = ALERT_NAMES[AlertKind.PAGE]
FRESH_MINUTES = 180
STALL_MINUTES = 60
THRESHOLD_MINUTES = 15
# Stale once the data is more than 15 minutes old: the 16th stalled minute to the last.
STALE_MINUTES = STALL_MINUTES - THRESHOLD_MINUTES
STALL_ENDS = FRESH_MINUTES + STALL_MINUTES
# The page row (14.4x over 1h and 5m at 1 % allowed) needs 14.4 % of the hour's minutes stale:
# nine of sixty, the ninth stale minute after the first.
FIRST_STALE = FRESH_MINUTES + THRESHOLD_MINUTES + 1
PAGE_MINUTE = FIRST_STALE + 8


@dataclass(frozen=True)
class Source:
    kind: FreshnessSource
    query: str
    values: str  # one sample a minute from minute 0 to the end of the stall and an hour after


SOURCES = [
    Source(
        FreshnessSource.TIMESTAMP,
        'etl_last_success_timestamp_seconds{job="orders-etl"}',
        # The job succeeds every minute, stalls, then catches up.
        f"0+60x{FRESH_MINUTES} {FRESH_MINUTES * 60}x{STALL_MINUTES - 1} {STALL_ENDS * 60}+60x60",
    ),
    Source(
        FreshnessSource.LAG,
        'etl_lag_seconds{job="orders-etl"}',
        f"0x{FRESH_MINUTES} 60+60x{STALL_MINUTES - 1} 0x60",
    ),
    Source(
        FreshnessSource.BOOL_GAUGE,
        'etl_fresh{job="orders-etl"}',
        f"1x{FRESH_MINUTES + THRESHOLD_MINUTES} 0x{STALE_MINUTES - 1} 1x60",
    ),
]


def _objective(source: Source) -> Objective:
    threshold = None if source.kind is FreshnessSource.BOOL_GAUGE else THRESHOLD_MINUTES * 60.0
    return Objective(
        namespace="warehouse",
        name=f"orders-{source.kind.value.lower()}",
        service="orders-etl",
        target_percent=99.0,
        window=RollingWindow(30 * DAY),
        indicator=FreshnessIndicator(source.kind, source.query, threshold),
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.kind.value)
def test_a_stall_burns_the_freshness_budget_minute_by_minute(
    source: Source, toolchain: Toolchain, tmp_path: Path
) -> None:
    objective = _objective(source)
    selector = f'slo="{objective.name}",slo_namespace="warehouse"'
    labels = {**slo_labels(objective), "namespace": objective.namespace}
    page = {"exp_labels": {**labels, "severity": "critical", "slokeeper_alert": "page"}}
    checks: dict[str, Any] = {
        "alert_rule_test": [
            {"eval_time": f"{FIRST_STALE - 1}m", "alertname": PAGE, "exp_alerts": []},
            {"eval_time": f"{PAGE_MINUTE - 1}m", "alertname": PAGE, "exp_alerts": []},
            {"eval_time": f"{PAGE_MINUTE}m", "alertname": PAGE, "exp_alerts": [page]},
        ],
        "promql_expr_test": [
            {
                # The hour that ends with the stall: 45 of its 60 minutes stale.
                "expr": f'{ERROR_RATIO}{{{selector},window="1h"}}',
                "eval_time": f"{STALL_ENDS}m",
                "exp_samples": [
                    {
                        "labels": f'{ERROR_RATIO}{{{selector},service="orders-etl",window="1h"}}',
                        "value": STALE_MINUTES / 60,
                    }
                ],
            },
            {
                # An hour after the stall the data is fresh again and the hour is clean.
                "expr": f'{ERROR_RATIO}{{{selector},window="1h"}}',
                "eval_time": f"{STALL_ENDS + 60}m",
                "exp_samples": [
                    {
                        "labels": f'{ERROR_RATIO}{{{selector},service="orders-etl",window="1h"}}',
                        "value": 0,
                    }
                ],
            },
        ],
    }
    tested = replay(
        toolchain.promtool,
        write_rule_file(tmp_path / "rules.yaml", rule_group(objective)),
        input_series=[{"series": source.query, "values": source.values}],
        checks=checks,
    )
    assert tested.returncode == 0, f"{tested.stdout}{tested.stderr}"
