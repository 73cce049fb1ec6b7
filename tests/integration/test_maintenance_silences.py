"""User story: an SRE plans a database upgrade and writes a maintenance window on the checkout
SLO. During the window the SLO's page reaches Alertmanager silenced, while an SLO without a
window pages as usual; the budget still counts every error, and status says how much of it the
window cost. When the window ends the silence expires and the page is active again.

Real operator, real Prometheus sending its alerts to a real Alertmanager (built by the
toolchain), real traffic from a pod that fails 20 % of its requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from polling import eventually
from resources import availability_slo, event_reasons, read_status
from running_operator import running_operator
from slokeeper.localcluster.alertmanager import AlertmanagerServer
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator
from workloads import checkout_deployment

WINDOW_SECONDS = 75


@pytest.fixture
def alertmanager(
    toolchain: Toolchain, prometheus: PrometheusServer, tmp_path: Path
) -> Iterator[AlertmanagerServer]:
    with AlertmanagerServer(toolchain.alertmanager, tmp_path / "alertmanager") as server:
        prometheus.alertmanagers = [server.address]
        prometheus.configure()
        try:
            yield server
        finally:
            prometheus.alertmanagers = []
            prometheus.configure()


def _page_alerts(alertmanager: AlertmanagerServer, namespace: str) -> dict[str, dict[str, Any]]:
    """Each SLO's page alert as Alertmanager holds it, by SLO name."""
    alerts = requests.get(f"{alertmanager.url}/api/v2/alerts", timeout=5).json()
    return {
        alert["labels"]["slo"]: alert
        for alert in alerts
        if alert["labels"].get("slo_namespace") == namespace
        and alert["labels"].get("slokeeper_alert") == "page"
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_maintenance_window_silences_its_slos_pages_and_nothing_else(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    alertmanager: AlertmanagerServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace = solo_namespace
    manifest = checkout_deployment("checkout", 1, "shop/checkout:1.2-bad", variant="bad")
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=manifest)
    start = datetime.now(UTC).replace(microsecond=0)
    end = start + timedelta(seconds=WINDOW_SECONDS)
    upgrading = availability_slo(namespace, "checkout-upgrading", 99.9)
    upgrading["spec"]["maintenance"] = [
        {"start": _iso(start), "end": _iso(end), "reason": "CHG-4711 database upgrade"}
    ]
    control = availability_slo(namespace, "checkout-control", 99.9)

    with running_operator(
        cluster.kubeconfig,
        prometheus.url,
        tmp_path / "operator.log",
        namespaces=(namespace,),
        extra_args=("--alertmanager-url", alertmanager.url),
    ):
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all([upgrading, control]))
        status = eventually(
            lambda: read_status(cluster, "slo", namespace, "checkout-upgrading"),
            lambda seen: any(w.get("silenceId") for w in seen.get("maintenance", [])),
            "the window's silence in status",
            timeout=60,
        )
        (window,) = status["maintenance"]
        assert window["state"] == "Active", window
        silence_id = window["silenceId"]
        silence = requests.get(f"{alertmanager.url}/api/v2/silence/{silence_id}", timeout=5).json()
        assert silence["createdBy"] == "slokeeper"
        assert silence["comment"].startswith("CHG-4711 database upgrade [slokeeper maintenance")
        assert silence["status"]["state"] == "active"

        # Both SLOs page; only the one without a window reaches anyone.
        held = eventually(
            lambda: _page_alerts(alertmanager, namespace),
            lambda alerts: {"checkout-upgrading", "checkout-control"} <= alerts.keys(),
            "both SLOs' page alerts in Alertmanager",
            timeout=WINDOW_SECONDS - 15,
        )
        assert held["checkout-control"]["status"]["state"] == "active", held
        assert held["checkout-upgrading"]["status"]["state"] == "suppressed", held
        assert held["checkout-upgrading"]["status"]["silencedBy"] == [silence_id]

        # The errors still count: the budget burns as fast as the control SLO's.
        during = eventually(
            lambda: read_status(cluster, "slo", namespace, "checkout-upgrading"),
            lambda seen: seen.get("errorBudgetRemainingRatio", 1) < 1,
            "the budget to count the errors made during the window",
            timeout=30,
        )
        in_maintenance = {c["type"]: c for c in during["conditions"]}["InMaintenance"]
        assert in_maintenance["status"] == "True"
        assert "CHG-4711 database upgrade" in in_maintenance["message"]

        # After the window: the silence expires and the page is active.
        after = eventually(
            lambda: _page_alerts(alertmanager, namespace).get("checkout-upgrading", {}),
            lambda alert: alert.get("status", {}).get("state") == "active",
            "the page alert to be active once the window ends",
            timeout=WINDOW_SECONDS + 60,
        )
        assert after["status"]["silencedBy"] == []
        assert datetime.now(UTC) >= end
        ended = eventually(
            lambda: read_status(cluster, "slo", namespace, "checkout-upgrading"),
            lambda seen: seen.get("maintenance", [{}])[0].get("state") == "Ended",
            "the window to show as ended",
            timeout=30,
        )
        spent = ended["maintenance"][0]["budgetSpentRatio"]
        # 20 % errors against 0.1 % allowed for about a minute of a 28-day window.
        assert 0 < spent < 1, ended["maintenance"]
        reasons = eventually(
            lambda: event_reasons(cluster, namespace, "checkout-upgrading"),
            lambda seen: {"MaintenanceStarted", "MaintenanceEnded"} <= set(seen),
            "Events for the window's start and end",
        )
        assert "MaintenanceStarted" in reasons
        print(f"silence {silence_id}; window: {ended['maintenance'][0]}")


def test_a_namespace_maintenance_window_silences_the_slos_it_selects_until_deleted(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    alertmanager: AlertmanagerServer,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace = solo_namespace
    covered = availability_slo(namespace, "checkout-covered", 99.9)
    covered["metadata"]["labels"] = {"tier": "checkout"}
    other = availability_slo(namespace, "search-other", 99.9)
    now = datetime.now(UTC).replace(microsecond=0)
    window = {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "MaintenanceWindow",
        "metadata": {"name": "db-upgrade", "namespace": namespace},
        "spec": {
            "start": _iso(now),
            "end": _iso(now + timedelta(hours=2)),
            "reason": "CHG-4712 PostgreSQL upgrade",
            "sloSelector": {"matchLabels": {"tier": "checkout"}},
        },
    }
    with running_operator(
        cluster.kubeconfig,
        prometheus.url,
        tmp_path / "operator.log",
        namespaces=(namespace,),
        extra_args=("--alertmanager-url", alertmanager.url),
    ):
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump_all([covered, other, window]))
        status = eventually(
            lambda: read_status(cluster, "slo", namespace, "checkout-covered"),
            lambda seen: any(w.get("silenceId") for w in seen.get("maintenance", [])),
            "the namespace window's silence in the covered SLO's status",
            timeout=60,
        )
        (entry,) = status["maintenance"]
        assert entry["reason"] == "MaintenanceWindow db-upgrade: CHG-4712 PostgreSQL upgrade"
        silence_url = f"{alertmanager.url}/api/v2/silence/{entry['silenceId']}"
        silence = requests.get(silence_url, timeout=5).json()
        assert silence["status"]["state"] == "active"
        assert {m["name"]: m["value"] for m in silence["matchers"]}["slo"] == "checkout-covered"
        assert not read_status(cluster, "slo", namespace, "search-other").get("maintenance")

        # Called off: the silence goes at once, not two hours later.
        cluster.kubectl("delete", "maintenancewindow", "db-upgrade", "-n", namespace)
        eventually(
            lambda: requests.get(silence_url, timeout=5).json()["status"]["state"],
            lambda state: state == "expired",
            "the silence to be expired once the MaintenanceWindow is deleted",
            timeout=60,
        )
        eventually(
            lambda: read_status(cluster, "slo", namespace, "checkout-covered"),
            lambda seen: not seen.get("maintenance"),
            "the window to leave the covered SLO's status",
            timeout=30,
        )
