"""The composition root: one Prometheus client for both loops, one typed Runtime in kopf's memo."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client
from prometheus_client import generate_latest

from slokeeper.api.maintenance import NamespaceMaintenanceWindow
from slokeeper.handlers import composition, operator
from slokeeper.handlers.clock import rollout_clock
from slokeeper.handlers.fault_injection import CRASH_AFTER_ENV, status_written_hook
from slokeeper.handlers.health import OperatorHealth
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.handlers.runtime import runtime
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.rollout.states import Phase
from slokeeper.slo.maintenance import SharedWindow
from slokeeper.slo.objective import MaintenanceWindow


def test_both_loops_share_one_prometheus_client_and_the_metric_counts_its_queries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[PrometheusClient] = []
    original = PrometheusAccess.client

    def counted(self: PrometheusAccess) -> PrometheusClient:
        built.append(original(self))
        return built[-1]

    monkeypatch.setattr(PrometheusAccess, "client", counted)
    config = composition.OperatorConfig(prometheus=PrometheusAccess(url="http://prometheus:9090"))
    built_runtime = composition.build_runtime(
        config, client.ApiClient(), OperatorHealth(), OperatorMetrics()
    )
    assert built == [built_runtime.prometheus]
    built_runtime.prometheus.queries = 7  # as if the SLO and rollout loops had sent seven
    text = generate_latest(built_runtime.metrics.registry).decode()
    assert "slokeeper_prometheus_queries_total 7.0" in text


def test_handlers_read_the_runtime_from_the_memo() -> None:
    config = composition.OperatorConfig(prometheus=PrometheusAccess(url="http://prometheus:9090"))
    built = composition.build_runtime(
        config, client.ApiClient(), OperatorHealth(), OperatorMetrics()
    )
    assert runtime(built.memo()) is built
    with pytest.raises(TypeError, match="no slokeeper Runtime"):
        runtime({"rollout_scheduler": object()})


def test_a_maintenance_window_object_becomes_the_cores_shared_window() -> None:
    spec = {
        "start": "2026-12-06T02:00:00Z",
        "end": "2026-12-06T04:00:00Z",
        "reason": "CHG-1234 database upgrade",
        "sloSelector": {"matchLabels": {"tier": "1", "team": "shop"}},
    }
    found = asyncio.run(
        operator.maintenance_index(namespace="shop", name="db", body={"spec": spec})
    )
    start, end = datetime(2026, 12, 6, 2, tzinfo=UTC), datetime(2026, 12, 6, 4, tzinfo=UTC)
    expected = SharedWindow(
        "db",
        MaintenanceWindow(start, end, "CHG-1234 database upgrade"),
        (("team", "shop"), ("tier", "1")),
    )
    assert found == {"shop": expected}
    model = NamespaceMaintenanceWindow.model_validate({"metadata": {"name": "db"}, "spec": spec})
    assert model.to_shared_window() == expected


def test_the_rehearsal_clock_runs_on_from_its_start() -> None:
    start = datetime(2026, 12, 8, 2, tzinfo=UTC)
    now = rollout_clock(start)()
    assert start <= now < start.replace(minute=1)
    assert rollout_clock(None)().tzinfo is UTC


def test_fault_injection_kills_only_after_the_phase_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kills: list[Any] = []
    monkeypatch.setattr("os.kill", lambda pid, sig: kills.append(sig))
    monkeypatch.delenv(CRASH_AFTER_ENV, raising=False)
    status_written_hook()(Phase.PROMOTING)
    assert kills == []
    monkeypatch.setenv(CRASH_AFTER_ENV, Phase.PROMOTING.value)
    hook = status_written_hook()
    hook(Phase.PROGRESSING)
    assert kills == []
    hook(Phase.PROMOTING)
    assert len(kills) == 1
