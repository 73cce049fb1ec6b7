"""User story: an SRE declares "orders data at most 5 seconds old, 90 % of the time" on the
timestamp an ETL job exports. While the job keeps up, the SLO is met in full; when it stalls,
Prometheus pages and the SLO's status shows the page and the budget going; when it catches up,
the short windows are clean again. Real operator, real Prometheus scraping a real exporter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIServer

import pytest
import yaml
from prometheus_api_client import PrometheusConnect
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from polling import eventually
from resources import read_status, ready_condition, slo_resource
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.processes import free_port
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.slo.durations import duration_seconds

JOB = "orders-etl-freshness"


class EtlJob:
    """Exports etl_last_success_timestamp_seconds; "succeeds" every half second until stalled."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.last_success = Gauge(
            "etl_last_success_timestamp_seconds", "Newest data published.", registry=self.registry
        )
        self.running = threading.Event()
        self.stopped = threading.Event()
        self.port = free_port()
        self.server: WSGIServer | None = None

    def start(self) -> None:
        self.server, _ = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self.running.set()
        threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while not self.stopped.wait(0.5):
            if self.running.is_set():
                self.last_success.set(time.time())

    def stop(self) -> None:
        self.stopped.set()
        if self.server is not None:
            self.server.shutdown()


@pytest.fixture
def etl_job(prometheus: PrometheusServer) -> Iterator[EtlJob]:
    job = EtlJob()
    job.start()
    prometheus.add_job(ScrapeJob(JOB, (f"127.0.0.1:{job.port}",)))
    yield job
    prometheus.remove_job(JOB)
    job.stop()


def _burn_rates(status: dict[str, Any]) -> dict[str, float]:
    return {row["window"]: row["burnRate"] for row in status.get("burnRates", [])}


def test_a_stalled_etl_job_burns_its_freshness_budget_and_pages(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    operator_process: RunningOperator,
    namespace: str,
    etl_job: EtlJob,
) -> None:
    slo = slo_resource(
        namespace,
        "orders-freshness",
        {
            "service": "orders-etl",
            "target": 90.0,
            "window": {"rolling": "1h"},
            "indicator": {
                "freshness": {
                    "timestamp": f'etl_last_success_timestamp_seconds{{job="{JOB}"}}',
                    "threshold": "5s",
                }
            },
        },
    )
    cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(slo))

    fresh = eventually(
        lambda: read_status(cluster, "slo", namespace, "orders-freshness"),
        lambda status: (
            ready_condition(status).get("status") == "True"
            and status.get("sliRatio") == 1
            and bool(_burn_rates(status))
        ),
        "the SLO to be evaluated while the ETL job keeps up",
        timeout=90,
    )
    assert set(_burn_rates(fresh).values()) == {0}, fresh["burnRates"]
    assert fresh["errorBudgetRemainingRatio"] == 1

    etl_job.running.clear()  # the job stalls: its data ages
    connection = PrometheusConnect(url=prometheus.url, disable_ssl=True)
    eventually(
        lambda: connection.custom_query(
            f'ALERTS{{alertname="ErrorBudgetBurnPage",alertstate="firing",'
            f'slo="orders-freshness",slo_namespace="{namespace}"}}'
        ),
        lambda alerts: len(alerts) == 1,
        "Prometheus to page for the stale data",
        timeout=60,
    )
    stale = eventually(
        lambda: read_status(cluster, "slo", namespace, "orders-freshness"),
        lambda status: any(alert["kind"] == "page" for alert in status.get("firingAlerts", [])),
        "the status to show the page",
        timeout=60,
    )
    assert stale["sliRatio"] < 1
    assert stale["errorBudgetRemainingRatio"] < 1
    shortest = min(_burn_rates(stale), key=duration_seconds)
    assert _burn_rates(stale)[shortest] > 1

    etl_job.running.set()  # it catches up
    recovered = eventually(
        lambda: read_status(cluster, "slo", namespace, "orders-freshness"),
        lambda status: _burn_rates(status).get(shortest) == 0 and not status.get("firingAlerts"),
        f"the {shortest} burn rate to fall to 0 once the data is fresh again",
        timeout=90,
    )
    print(f"fresh: {fresh['burnRates']}\nstale: {stale['burnRates']}\nrecovered: {recovered}")
    assert recovered["errorBudgetRemainingRatio"] < 1  # the stall stays in the window's budget
    assert operator_process.process.poll() is None, "the operator exited"
