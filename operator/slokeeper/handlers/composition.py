"""The composition root: the one place that builds the operator from its settings and runs it.

``slokeeper run`` parses the settings into an ``OperatorConfig`` and calls ``run_operator``.
From here: the health server, the leader election, ONE Kubernetes API client and ONE Prometheus
client (shared by the SLO loop and the rollout loop, so ``slokeeper_prometheus_queries_total``
counts both), the loops, the rollout scheduler and the metrics, gathered in the ``Runtime`` that
kopf's memo carries to the handlers (``handlers.operator`` and ``handlers.rollouts``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

import kopf
from kubernetes import client

from slokeeper.alertmanager.silences import AlertmanagerSilences
from slokeeper.api.references import ObjectRef
from slokeeper.handlers import operator, rollouts
from slokeeper.handlers.clock import rollout_clock
from slokeeper.handlers.fault_injection import status_written_hook, tick_observed_hook
from slokeeper.handlers.health import OperatorHealth
from slokeeper.handlers.metrics import OperatorMetrics
from slokeeper.handlers.rollout_pool import DEFAULT_CONCURRENCY
from slokeeper.handlers.rollout_scheduler import RolloutScheduler
from slokeeper.handlers.runtime import Runtime
from slokeeper.kube.connection import api_client
from slokeeper.kube.events import EventRecorder
from slokeeper.kube.leader_lease import LeaderElection
from slokeeper.kube.rollout_commands import AnnotationRequests
from slokeeper.kube.rollout_resource import RolloutStore
from slokeeper.kube.rollout_target import DeploymentWorkload
from slokeeper.kube.rules_objects import RulesWriter
from slokeeper.kube.slo_status import SLOStatusWriter
from slokeeper.loops.rollout.loop import RolloutLoop
from slokeeper.loops.slo.loop import SLOLoop
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.canary_analysis import PrometheusCanaryEvidence
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.prometheus.slo_figures import SLOFiguresReader

log = logging.getLogger("slokeeper")

HANDLER_MODULES = (operator, rollouts)  # importing them registers their kopf handlers
POD_NAMESPACE_ENV = "POD_NAMESPACE"  # the Pod's namespace, from the Downward API (the chart)
SERVICE_ACCOUNT_NAMESPACE = operator.SERVICE_ACCOUNT / "namespace"


@dataclass(frozen=True)
class OperatorConfig:
    """Everything ``slokeeper run`` was told (see ``cli.settings_table``)."""

    prometheus: PrometheusAccess
    interval_seconds: float = 30.0
    kubeconfig: str | None = None
    namespaces: tuple[str, ...] = ()  # empty: every namespace
    metrics_port: int = 0
    health_port: int = 0
    bind_address: str = "0.0.0.0"  # noqa: S104 - the Pod's own network namespace
    per_slo_metrics: bool = True
    leader_elect: bool = False
    leader_election_namespace: str | None = None  # None: the Pod's own
    leader_election_id: str = "slokeeper"
    clock_start: datetime | None = None
    alertmanager_url: str | None = None  # where maintenance silences are made
    rollout_concurrency: int = DEFAULT_CONCURRENCY  # ticks of different rollouts at once


def build_runtime(
    config: OperatorConfig, api: client.ApiClient, health: OperatorHealth, metrics: OperatorMetrics
) -> Runtime:
    """The loops and what they share, wired once."""
    prometheus = config.prometheus.client()
    metrics.count_queries(lambda: prometheus.queries)
    rollout_loop = _rollout_loop(config, api, prometheus)
    return Runtime(
        health=health,
        metrics=metrics,
        prometheus=prometheus,
        slo_loop=_slo_loop(config, api, prometheus),
        rollout_loop=rollout_loop,
        rollout_scheduler=RolloutScheduler(
            rollout_loop, metrics.observe_rollout, concurrency=config.rollout_concurrency
        ),
        interval_seconds=config.interval_seconds,
    )


def _slo_loop(
    config: OperatorConfig, api: client.ApiClient, prometheus: PrometheusClient
) -> SLOLoop:
    return SLOLoop(
        figures=SLOFiguresReader(prometheus),
        status=SLOStatusWriter(api),
        events=EventRecorder(api),
        rules=RulesWriter(api),
        owner=ObjectRef,
        silences=AlertmanagerSilences(config.alertmanager_url) if config.alertmanager_url else None,
    )


def _rollout_loop(
    config: OperatorConfig, api: client.ApiClient, prometheus: PrometheusClient
) -> RolloutLoop:
    return RolloutLoop(
        RolloutStore(api),
        DeploymentWorkload(api, EventRecorder(api)),
        PrometheusCanaryEvidence(prometheus),
        AnnotationRequests(),
        clock=rollout_clock(config.clock_start),
        status_written=status_written_hook(),
        tick_observed=tick_observed_hook(),
    )


def _own_namespace() -> str:
    if POD_NAMESPACE_ENV in os.environ:
        return os.environ[POD_NAMESPACE_ENV]
    if SERVICE_ACCOUNT_NAMESPACE.is_file():
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    return "default"


def _election(
    config: OperatorConfig, api: client.ApiClient, identity: str
) -> LeaderElection | None:
    if not config.leader_elect:
        return None
    namespace = config.leader_election_namespace or _own_namespace()
    return LeaderElection(api, namespace, config.leader_election_id, identity)


def _exit_on_lost_lease() -> None:
    # Another replica may act as soon as the lease expires; stopping at once (rather than
    # finishing a tick) is safe because every write is guarded and every action is an end state.
    logging.shutdown()
    os._exit(1)


def _stand_by_until_leading(
    election: LeaderElection, health: OperatorHealth, metrics: OperatorMetrics
) -> None:
    health.standby_reason = f"standing by for Lease {election.namespace}/{election.name}"
    health.lease_read_at = lambda: election.read_at
    metrics.leader.set(0)
    election.wait_until_leader(threading.Event())
    health.lease_read_at = None
    health.standby_reason = "leading; starting"
    election.keep_renewing(on_lost=_exit_on_lost_lease)


def run_operator(config: OperatorConfig) -> int:
    """Serve the probes and /metrics, wait for the Lease when asked to, then run kopf until it
    stops (on SIGTERM too: kopf stops its handlers, then the Lease is given up at once)."""
    if config.kubeconfig:
        os.environ["KUBECONFIG"] = config.kubeconfig  # for kopf's login handler
    health = OperatorHealth()
    # Per-SLO gauges cost memory per SLO; keep them only when someone can scrape them.
    metrics = OperatorMetrics(per_slo=config.per_slo_metrics and config.metrics_port > 0)
    api = api_client(config.kubeconfig)
    # Given to kopf too, which would otherwise ask the user database for the process's name:
    # an image's uid (65532, or OpenShift's random one) usually has no entry there.
    identity = f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    election = _election(config, api, identity)
    if config.health_port:
        health.serve(config.health_port, config.bind_address)
    if config.metrics_port:
        # From the start, so a standby is scraped too and says it is one (slokeeper_leader 0).
        metrics.serve(config.metrics_port, config.bind_address)
    if election is not None:
        _stand_by_until_leading(election, health, metrics)
    metrics.leader.set(1)
    try:
        kopf.run(
            standalone=True,
            clusterwide=not config.namespaces,
            namespaces=list(config.namespaces),
            memo=build_runtime(config, api, health, metrics).memo(),
            ready_flag=health.started,
            identity=identity,  # type: ignore[arg-type]  # a NewType of str kopf does not export
        )
    finally:
        if election is not None:
            election.release()
    return 0
