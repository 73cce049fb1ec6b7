"""User story: an SRE whose Prometheus data is queried through a scale-out backend points slokeeper
at it instead of at Prometheus, and nothing else changes.

VictoriaMetrics (single node, built from the Go module proxy) receives everything the session's
Prometheus has through remote write: the simulator's counters and the recording rules' results.
The SLO status path (the figures reader and ``evaluate``: the code behind the operator's status
and ``slokeeper report``) gives the same figures through VictoriaMetrics as straight from
Prometheus at the same instant, within 1 % (in fact to the last digit). The operator runs with
``--prometheus-url`` at VictoriaMetrics and nothing else changed; ``slokeeper status`` shows what
it wrote and ``slokeeper report`` reads through VictoriaMetrics too. The chart carries the
backend query settings to the operator. Both backends' figures are printed (``pytest -s``)."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helm import CHART, objects, rendered
from polling import eventually
from resources import apply, availability_slo, get, latency_slo, read_status, ready_condition
from running_operator import running_operator
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.prometheus_options import add_prometheus_arguments, prometheus_access
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.localcluster.victoriametrics import VictoriaMetricsServer
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.prometheus.slo_figures import SLOFiguresReader, key_of
from slokeeper.simulator.server import TrafficSimulator
from slokeeper.slo.calendar import measurement_span
from slokeeper.slo.evaluation import Figures, Health, Observation, evaluate
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import ERROR_RATIO, REQUESTS_PER_SECOND, recorded_windows
from workloads import checkout_deployment

SLOS = ("checkout-availability", "checkout-latency")


@pytest.fixture(scope="module")
def victoria_metrics(
    toolchain: Toolchain, prometheus: PrometheusServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VictoriaMetricsServer]:
    """VictoriaMetrics in front of the session's Prometheus, which remote-writes to it from now
    on (remote write sends new samples only: the SLOs of these tests are created afterwards)."""
    with VictoriaMetricsServer(
        toolchain.victoria_metrics, tmp_path_factory.mktemp("victoriametrics")
    ) as server:
        prometheus.remote_write_urls = [*prometheus.remote_write_urls, server.remote_write_url]
        prometheus.configure()
        try:
            yield server
        finally:
            prometheus.remote_write_urls = [
                url for url in prometheus.remote_write_urls if url != server.remote_write_url
            ]
            prometheus.configure()


def _objectives(cluster: LocalCluster, namespace: str) -> list[Objective]:
    return [
        ServiceLevelObjective.model_validate(get(cluster, "slo", namespace, name)).to_objective()
        for name in SLOS
    ]


def _recorded_series(
    client: PrometheusClient, namespace: str, at: datetime | None = None
) -> dict[str, float]:
    """Each recorded series of the namespace's SLOs and the time of its newest sample (now, or
    at ``at``)."""
    # One query per name: timestamp() drops it, and the 1h series of both would then clash.
    return {
        f"{name} {s.labels.get('slo')} {s.labels.get('window')}": s.value
        for name in (ERROR_RATIO, REQUESTS_PER_SECOND)
        for s in client.query(f'timestamp({name}{{slo_namespace="{namespace}"}})', at)
    }


def _status_path(
    client: PrometheusClient, objectives: Sequence[Objective], at: datetime
) -> dict[str, tuple[Observation, Figures]]:
    """What the operator computes for each SLO at ``at``: one read, then ``evaluate``."""
    observations = SLOFiguresReader(client).read(objectives, at)
    return {
        o.name: (
            observations[key_of(o)],
            evaluate(o, observations[key_of(o)], measurement_span(o.window, at)),
        )
        for o in objectives
    }


def _figures(observation: Observation, figures: Figures) -> dict[str, float | None]:
    """Every figure of one SLO: the status' (rounded as the status rounds them) and the raw error
    ratios they come from."""
    return {
        "sliRatio": figures.sli_ratio,
        "errorBudgetRemainingRatio": figures.error_budget_remaining_ratio,
        **{f"burnRate {window}": rate for window, rate in figures.burn_rates},
        "raw span error ratio": observation.span_error_ratio,
        "raw requests/s (1h)": observation.span_requests,
        **{
            f"raw error ratio {window:g}s": ratio
            for window, ratio in sorted(observation.window_error_ratios.items())
        },
    }


# The status rounds: SLI to 5 decimals, budget to 0.001, burn rates to 3 significant figures.
# Two equal inputs either side of a rounding boundary differ by one unit, not by 1 %.
ROUNDING = {"sliRatio": 1e-5, "errorBudgetRemainingRatio": 1e-3}


def _relative_difference(name: str, ours: float | None, theirs: float | None) -> float:
    assert ours is not None, name
    assert theirs is not None, name
    if math.isclose(ours, theirs, rel_tol=0, abs_tol=ROUNDING.get(name, 0) + 1e-12):
        return 0.0
    return abs(ours - theirs) / max(abs(ours), abs(theirs))


def _compare(
    label: str,
    prometheus: dict[str, dict[str, float | None]],
    other: dict[str, dict[str, float | None]],
) -> float:
    """Print both backends' figures side by side; the largest relative difference."""
    worst = 0.0
    print(f"\n{label}")
    print(f"  {'SLO':22} {'figure':28} {'Prometheus':>14} {'VictoriaMetrics':>16} {'diff':>9}")
    for slo, figures in prometheus.items():
        assert figures.keys() == other[slo].keys(), (slo, figures, other[slo])
        for name, value in figures.items():
            difference = _relative_difference(name, value, other[slo][name])
            worst = max(worst, difference)
            print(
                f"  {slo:22} {name:28} {value:14.8g} {other[slo][name]:16.8g} "
                f"{100 * difference:8.4f}%"
            )
    return worst


def test_slo_status_through_victoriametrics_equals_prometheus(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    victoria_metrics: VictoriaMetricsServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    namespace = solo_namespace
    # Of four pods one fails 20 % of requests and one is 5x slower: both SLOs burn (about 50x
    # the availability budget, 10x the latency budget).
    for name, replicas, version in (
        ("checkout", 2, "1.1"),
        ("checkout-bad", 1, "1.2-bad"),
        ("checkout-slow", 1, "1.3-slow"),
    ):
        manifest = checkout_deployment(name, replicas, f"shop/checkout:{version}", variant=version)
        cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=manifest)
    # Both clients as the operator makes them: partial responses denied, dedup asked for.
    through_prometheus = PrometheusAccess(prometheus.url).client()
    through_vm = PrometheusAccess(victoria_metrics.url).client()
    assert dict(through_vm.query_params) == {
        "partial_response": "false",
        "deny_partial_response": "1",
        "dedup": "true",
    }

    log = tmp_path / "operator.log"
    with running_operator(
        cluster.kubeconfig, victoria_metrics.url, log, namespaces=(namespace,)
    ) as operator:
        apply(cluster, availability_slo(namespace, SLOS[0], 99.9), latency_slo(namespace, SLOS[1]))

        # The operator, reading VictoriaMetrics only, evaluates both SLOs.
        eventually(
            lambda: {name: read_status(cluster, "slo", namespace, name) for name in SLOS},
            lambda seen: all(
                ready_condition(s).get("reason") == "Evaluated" for s in seen.values()
            ),
            "the operator, pointed at VictoriaMetrics, to evaluate both SLOs",
            timeout=120,
        )
        objectives = _objectives(cluster, namespace)
        wanted = sum(len(recorded_windows(o)) + 1 for o in objectives)

        # The instant both backends are asked about: 20 s after every recorded series has
        # reached VictoriaMetrics (so an SLO is read from its recorded series, and the subquery
        # below has steps with data), once every series carries samples beyond it. A series
        # arrives in order, so VictoriaMetrics then holds every sample Prometheus holds up to it.
        eventually(
            lambda: _recorded_series(through_vm, namespace),
            lambda seen: len(seen) == wanted,
            f"all {wanted} recorded series in VictoriaMetrics",
            timeout=90,
        )
        at = datetime.now(UTC) + timedelta(seconds=20)
        eventually(
            lambda: _recorded_series(through_vm, namespace),
            lambda seen: min(seen.values()) >= at.timestamp() + 5,
            f"samples after {at:%X} in every recorded series in VictoriaMetrics",
            timeout=90,
        )
        for client in (through_prometheus, through_vm):
            assert len(_recorded_series(client, namespace, at)) == wanted

        # The status path at the same instant, once per backend.
        read_at = {
            backend: _status_path(client, objectives, at)
            for backend, client in (("prometheus", through_prometheus), ("vm", through_vm))
        }
        for backend, read in read_at.items():
            for slo, (observation, figures) in read.items():
                assert figures.health is Health.OK, (backend, slo, figures.message)
                assert observation.window_error_ratios.keys() == set(
                    recorded_windows(next(o for o in objectives if o.name == slo))
                )
        worst = _compare(
            f"SLO status path at {at.isoformat()} (same instant, both backends)",
            {slo: _figures(*pair) for slo, pair in read_at["prometheus"].items()},
            {slo: _figures(*pair) for slo, pair in read_at["vm"].items()},
        )
        assert worst <= 0.01, f"figures differ by {100 * worst:.3f}% (see the table above)"
        # Past its first hour an SLO's SLI comes from an hourly subquery over its window, which
        # a new SLO has no data for yet (above, the reader falls back to the latest hour). The
        # same arithmetic at a 10 s step over the last 2 minutes, in both backends:
        span_query = (
            f"sum by (slo_namespace, slo) (10 * sum_over_time(("
            f'{ERROR_RATIO}{{window="1h",slo_namespace="{namespace}"}} * on (slo_namespace, slo) '
            f'{REQUESTS_PER_SECOND}{{window="1h",slo_namespace="{namespace}"}})[2m:10s]))'
        )
        spans = {
            backend: {
                s.labels["slo"]: {"errors over 2m at 10s steps": s.value}
                for s in client.query(span_query, at)
            }
            for backend, client in (("prometheus", through_prometheus), ("vm", through_vm))
        }
        assert spans["prometheus"].keys() == set(SLOS), spans
        worst_span = _compare("the span subquery's arithmetic", spans["prometheus"], spans["vm"])
        assert worst_span <= 0.01
        availability = read_at["vm"][SLOS[0]][1]
        assert availability.burn_rates
        assert all(rate > 14.4 for _, rate in availability.burn_rates)
        assert availability.error_budget_remaining_ratio is not None
        assert availability.error_budget_remaining_ratio < 0

        # The operator's own status, read from VictoriaMetrics at its lastEvaluationTime T.
        # Remote write sends in batches every few seconds, so VictoriaMetrics then held what
        # Prometheus had held a few seconds before T: the status is Prometheus' figures at an
        # instant within that lag.
        statuses = {name: read_status(cluster, "slo", namespace, name) for name in SLOS}
        for objective in objectives:
            status = statuses[objective.name]
            evaluated = datetime.fromisoformat(status["lastEvaluationTime"])
            lag, worst_status, truth = _closest_prometheus_instant(
                through_prometheus, objective, evaluated, _status_figures(status)
            )
            _compare(
                f"{objective.name}: operator status (through VictoriaMetrics, at {evaluated:%X}) "
                f"vs Prometheus {lag:.1f}s earlier",
                {objective.name: truth},
                {objective.name: _status_figures(status)},
            )
            assert worst_status <= 0.01, f"no instant in the last {MAX_LAG}s within 1 %"
        assert {a["kind"] for a in statuses[SLOS[0]]["firingAlerts"]} >= {"page"}
        assert statuses[SLOS[0]]["policyAction"] == "freeze"

        # The CLI, unchanged: `slokeeper status` lists what the operator wrote, and `slokeeper
        # report --prometheus-url <VictoriaMetrics>` reads the figures at the status' instant.
        listed = _cli("status", "-n", namespace, "--kubeconfig", str(cluster.kubeconfig))
        print(f"\n$ slokeeper status -n {namespace}\n{listed}")
        rows = {line.split()[1]: line.split() for line in listed.splitlines()[1:]}
        assert rows.keys() == set(SLOS)
        assert all(row[-1] == "yes" for row in rows.values())
        assert rows[SLOS[0]][-2] == "freeze"
        report_dir = tmp_path / "report"
        _cli(
            "report", SLOS[0], "-n", namespace, "--kubeconfig", str(cluster.kubeconfig),
            "--prometheus-url", victoria_metrics.url, "--output-dir", str(report_dir),
            "--points", "6",
        )  # fmt: skip
        reported = json.loads((report_dir / f"{namespace}_{SLOS[0]}.json").read_text())
        # The report reads at the status' lastEvaluationTime (the status may have been rewritten
        # since it was read above), through the same code: the same figures from the same data.
        reported_at = datetime.fromisoformat(reported["evaluatedAt"])
        assert reported_at >= datetime.fromisoformat(statuses[SLOS[0]]["lastEvaluationTime"])
        _, expected = _status_path(through_vm, objectives[:1], reported_at)[SLOS[0]]
        # The instant is seconds old: remote write may still have been delivering samples up to
        # it between the report's read and this one (seen once under two test workers: SLI
        # 0.95034 then 0.95032). Same code, same instant: equal to 0.1 %.
        assert reported["sliRatio"] == pytest.approx(expected.sli_ratio, rel=1e-3)
        assert reported["errorBudgetRemainingRatio"] == pytest.approx(
            expected.error_budget_remaining_ratio, rel=1e-3
        )
        assert [b["window"] for b in reported["burnRates"]] == [w for w, _ in expected.burn_rates]
        assert [b["burnRate"] for b in reported["burnRates"]] == pytest.approx(
            [rate for _, rate in expected.burn_rates], rel=1e-3
        )
        print(f"slokeeper report through VictoriaMetrics: {reported_at:%X} {expected.message}")
        assert operator.process.poll() is None
    print(f"\n(test body {time.monotonic() - began:.0f}s)")


# How far behind Prometheus VictoriaMetrics may be: a remote-write batch waits up to 5 s, and
# rules are evaluated every 2 s.
MAX_LAG = 15


def _status_figures(status: dict[str, Any]) -> dict[str, float | None]:
    return {
        "sliRatio": status["sliRatio"],
        "errorBudgetRemainingRatio": status["errorBudgetRemainingRatio"],
        **{f"burnRate {row['window']}": row["burnRate"] for row in status["burnRates"]},
    }


def _closest_prometheus_instant(
    client: PrometheusClient,
    objective: Objective,
    evaluated: datetime,
    shown: dict[str, float | None],
) -> tuple[float, float, dict[str, float | None]]:
    """(seconds before ``evaluated``, largest relative difference, Prometheus' figures) of the
    instant in the last MAX_LAG seconds whose figures are closest to ``shown``."""
    candidates = []
    for half_seconds in range(2 * MAX_LAG + 1):
        lag = half_seconds / 2
        _, figures = _status_path(client, [objective], evaluated - timedelta(seconds=lag))[
            objective.name
        ]
        truth = _status_figures(
            {
                "sliRatio": figures.sli_ratio,
                "errorBudgetRemainingRatio": figures.error_budget_remaining_ratio,
                "burnRates": [{"window": w, "burnRate": r} for w, r in figures.burn_rates],
            }
        )
        if truth.keys() == shown.keys():
            worst = max(_relative_difference(k, v, shown[k]) for k, v in truth.items())
            candidates.append((worst, lag, truth))
    assert candidates, f"Prometheus has no figures for {objective.name} near {evaluated}"
    worst, lag, truth = min(candidates, key=lambda candidate: candidate[:2])
    return lag, worst, truth


def _cli(*args: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, f"slokeeper {args[0]}: {finished.stderr}{finished.stdout}"
    return finished.stdout


def _chart_env(toolchain: Toolchain, *values: str) -> dict[str, str]:
    text = rendered(toolchain, *values, show_only="templates/deployment.yaml")
    container = objects(text)[0]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if e["name"].startswith("SLOKEEPER_")}


def _access_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> PrometheusAccess:
    for name in ("PARTIAL_RESPONSE", "DEDUP", "QUERY_PARAMS"):
        monkeypatch.delenv(f"SLOKEEPER_PROMETHEUS_{name}", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    parser = argparse.ArgumentParser()
    add_prometheus_arguments(parser, default_url="http://prometheus:9090")
    return prometheus_access(parser.parse_args([]))


def test_the_chart_carries_the_backend_settings_to_the_operator(
    toolchain: Toolchain, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = _chart_env(toolchain)
    assert _access_from(defaults, monkeypatch).backend_query_params() == (
        ("partial_response", "false"),
        ("deny_partial_response", "1"),
        ("dedup", "true"),
    )
    thanos = _chart_env(
        toolchain,
        "prometheus.url=http://thanos-query.monitoring:9090",
        "prometheus.partialResponse=allow",
        "prometheus.dedup=off",
        "prometheus.queryParams={max_source_resolution=0s,replicaLabels=replica}",
    )
    assert _access_from(thanos, monkeypatch).backend_query_params() == (
        ("partial_response", "true"),
        ("deny_partial_response", "0"),
        ("dedup", "false"),
        ("max_source_resolution", "0s"),
        ("replicaLabels", "replica"),
    )
    # An unquoted `dedup: off` in a values file is YAML's false; the chart reads it as meant.
    assert _chart_env(toolchain, "prometheus.dedup=false")["SLOKEEPER_PROMETHEUS_DEDUP"] == "off"
    assert "SLOKEEPER_PROMETHEUS_QUERY_PARAMS" not in defaults


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("prometheus.partialResponse=warn", "prometheus.partialResponse takes deny, allow"),
        ("prometheus.dedup=maybe", "prometheus.dedup takes on, off or backend-default"),
        ("prometheus.queryParams={nocache}", "prometheus.queryParams items are KEY=VALUE"),
    ],
)
def test_the_chart_refuses_backend_settings_the_operator_would_refuse(
    toolchain: Toolchain, value: str, message: str
) -> None:
    refused = subprocess.run(
        [str(toolchain.helm), "template", str(CHART), "--kube-version",
         toolchain.kubernetes_version, "--set", value],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert message in refused.stderr
