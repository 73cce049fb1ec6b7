"""User story: the rules `slokeeper rules` prints pass promtool and run in a real Prometheus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
import yaml

from polling import eventually
from promtool import promtool
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.slo.promql import add_matchers
from slokeeper.slo.rules import rule_counts

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(str(path) for path in (ROOT / "manifests" / "samples").glob("slo-*.yaml"))


def _expected_rules() -> int:
    """What the models say the samples' rules number, recording and alerting."""
    return sum(
        sum(
            rule_counts(
                ServiceLevelObjective.model_validate(
                    yaml.safe_load(Path(path).read_text())
                ).to_objective()
            )
        )
        for path in SAMPLES
    )


def _render(tmp_path: Path) -> Path:
    rendered = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rules", *SAMPLES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    path = tmp_path / "slo-rules.yaml"
    path.write_text(rendered.stdout)
    return path


def test_promtool_accepts_the_rules_of_every_sample(toolchain: Toolchain, tmp_path: Path) -> None:
    checked = promtool(toolchain.promtool, "check", "rules", str(_render(tmp_path)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    expected = _expected_rules()
    assert expected >= 4 * len(SAMPLES)
    assert f"SUCCESS: {expected} rules found" in checked.stdout


def test_prometheus_loads_and_evaluates_them_without_errors(
    prometheus: PrometheusServer, tmp_path: Path
) -> None:
    rules = _render(tmp_path)
    prometheus.configure(rule_files=[rules])
    try:

        def groups() -> list[dict[str, Any]]:
            response = requests.get(f"{prometheus.url}/api/v1/rules", timeout=5)
            loaded: list[dict[str, Any]] = response.json()["data"]["groups"]
            return loaded

        loaded = eventually(
            groups,
            lambda seen: (
                len(seen) == len(SAMPLES)
                and all(
                    rule.get("lastEvaluation", "").startswith("20")
                    for g in seen
                    for rule in g["rules"]
                )
            ),
            f"{len(SAMPLES)} SLO groups loaded and evaluated",
            timeout=90,  # a few seconds alone; a loaded CI run took longer than 30
        )
        problems = [
            (rule["name"], rule.get("lastError"))
            for group in loaded
            for rule in group["rules"]
            if rule.get("health") != "ok"
        ]
        assert problems == []
    finally:
        prometheus.configure(rule_files=[])


def test_sli_queries_narrowed_to_canary_pods_are_valid_promql(prometheus: PrometheusServer) -> None:
    queries = [
        'sum(rate(http_requests_total{namespace="default",code=~"5.."}[5m]))',
        "sum by (code) (rate(http_requests_total[5m])) / ignoring (code) group_left "
        "sum(rate(http_requests_total[5m]))",
        "histogram_quantile(0.99, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{le!="+Inf"}[5m])))',
        'label_replace(up{job="a{b}"} offset 1m, "x", "$1", "instance", "(.*)")',
    ]
    client = PrometheusClient(prometheus.url)
    for query in queries:
        narrowed = add_matchers(query, 'pod=~"checkout-canary-.*"')
        assert narrowed.count('pod=~"checkout-canary-.*"') >= 1
        client.query(narrowed)  # raises QueryRejectedError with Prometheus' message if invalid
