"""User story: a rollout whose ticks fail in a way no retry fixes (a bug, an input nothing refused)
never keeps its canary serving in silence: the canary is taken out, the target holds its stable
pods, and the ChangeRollout says why — until the cause is gone, when the change carries on.

The failure is injected (SLOKEEPER_TEST_FAIL_TICK_IN, test-only): every tick of a rollout in
Progressing raises, as the ticks of the hostile-input issue did."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from polling import eventually
from resources import (
    apply,
    availability_slo,
    change_rollout,
    events,
    read_status,
    rollout_status,
)
from running_operator import running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.simulator.server import TrafficSimulator
from workloads import deploy_ready, ready_images, ready_replicas, set_image


def test_a_tick_that_keeps_failing_takes_the_canary_out_of_service(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace = solo_namespace
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    apply(
        cluster,
        availability_slo(namespace),
        change_rollout(namespace, steps=[{"weight": 25, "pause": "10m"}]),
    )
    with running_operator(
        cluster.kubeconfig,
        prometheus.url,
        tmp_path / "operator.log",
        namespaces=(namespace,),
        env={"SLOKEEPER_TEST_FAIL_TICK_IN": "Progressing"},
    ):
        eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")
        set_image(cluster, namespace, "1.2")
        # The tick that starts the canary runs in Idle; every later one fails.
        eventually(
            lambda: rollout_status(cluster, namespace).get("phase"),
            lambda phase: phase == "Progressing",
            "the canary to start",
        )
        held = eventually(
            lambda: (
                read_status(cluster, "crollout", namespace, "checkout").get("conditions", []),
                ready_replicas(apps, namespace, "checkout-canary"),
            ),
            lambda seen: any(c.get("reason") == "TickFailed" for c in seen[0]) and seen[1] == -1,
            "the canary taken out of service, and the conditions saying why",
        )
        ready = next(c for c in held[0] if c["type"] == "Ready")
        assert "test fault injection: a tick in Progressing fails" in ready["message"]
        assert "its canary was removed and the target holds its stable pods" in ready["message"]
        assert any(e["reason"] == "TickFailed" for e in events(cluster, namespace, "ChangeRollout"))
        eventually(
            lambda: ready_images(core, namespace),
            lambda images: images == ["shop/checkout:1.1"] * 4,
            "only the 4 stable pods serving",
        )
        target = apps.read_namespaced_deployment("checkout", namespace)
        assert target.spec.paused

    # The cause gone (an operator without the fault): the change carries on from its status.
    with running_operator(
        cluster.kubeconfig, prometheus.url, tmp_path / "fixed.log", namespaces=(namespace,)
    ):
        eventually(
            lambda: (
                ready_replicas(apps, namespace, "checkout-canary"),
                [c["reason"] for c in rollout_status(cluster, namespace)["conditions"]],
            ),
            lambda seen: seen[0] == 1 and "TickFailed" not in seen[1],
            "the canary of 1.2 running again, the change no longer failing",
        )
