"""User story: the operator is killed at the worst moments — in the middle of a step's analyses,
right after deciding to promote, right after deciding to roll back — and a change calendar is
honoured to the second. After a restart each rollout ends where it would have without the kill:
no step repeated, no timed pause restarted from zero, no canary left behind.

Each test runs its own operator on a namespace no other operator watches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client

from polling import eventually
from resources import apply, availability_slo, change_rollout, get, rollout_status
from running_operator import RunningOperator, running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.simulator.server import TrafficSimulator
from workloads import deploy_ready, ready_images, ready_replicas, set_image

REPLICAS = 4
STEPS = [{"weight": w, "pause": "15s"} for w in (5, 25, 50)]


class Operators:
    """Starts (and restarts) this test's own operator process."""

    def __init__(
        self, cluster: LocalCluster, prometheus: PrometheusServer, namespace: str, log: Path
    ) -> None:
        self.cluster, self.prometheus, self.namespace, self.log = (
            cluster,
            prometheus,
            namespace,
            log,
        )

    @contextmanager
    def run(self, *args: str, **env: str) -> Iterator[RunningOperator]:
        with running_operator(
            self.cluster.kubeconfig,
            self.prometheus.url,
            self.log,
            namespaces=(self.namespace,),
            extra_args=args,
            env=env,
        ) as running:
            yield running


def decisions(change: dict[str, Any]) -> Counter[str]:
    return Counter(d["reason"] for d in change["decisions"])


def start_guarded(cluster: LocalCluster, apps: client.AppsV1Api, namespace: str) -> None:
    deploy_ready(cluster, apps, namespace, REPLICAS, "shop/checkout:1.1")
    # Pods count as available 8 s after Ready: a native rollout (promotion) takes a while.
    cluster.kubectl(
        "patch", "deployment", "checkout", "-n", namespace, "-p", '{"spec":{"minReadySeconds":8}}'
    )
    apply(cluster, availability_slo(namespace), change_rollout(namespace, steps=STEPS))
    eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")


def test_killed_mid_step_the_rollout_carries_on_without_repeating_a_step(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace, apps = solo_namespace, client.AppsV1Api(api_client)
    operators = Operators(cluster, prometheus, namespace, tmp_path / "operator.log")
    with operators.run() as first:
        start_guarded(cluster, apps, namespace)
        set_image(cluster, namespace, "1.2")
        in_step_two = eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: (
                (s.get("current") or {}).get("step") == 1
                and s["current"]["steps"][-1].get("passedAnalyses", 0) >= 1
            ),
            "step 2 under way with a passing analysis",
            timeout=90,
        )
        first.process.kill()  # SIGKILL, between or during analyses
        first.process.wait()
    step_two_started = in_step_two["current"]["stepStartedAt"]
    with operators.run():
        done = eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: s.get("phase") == "Succeeded",
            "the restarted operator to finish the promotion",
            timeout=120,
        )
    change = done["history"][0]
    assert [s["weight"] for s in change["steps"]] == [5, 25, 50]
    assert change["steps"][1]["startedAt"] == step_two_started, "the step's pause kept running"
    counts = decisions(change)
    assert (counts["CanaryStarted"], counts["StepAdvanced"], counts["Promoted"]) == (1, 2, 1)
    eventually(
        lambda: ready_images(client.CoreV1Api(api_client), namespace),
        lambda images: images == ["shop/checkout:1.2"] * REPLICAS,
        "every pod on 1.2, no canary",
    )


def test_killed_right_after_deciding_to_promote_the_promotion_completes_once(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace, apps = solo_namespace, client.AppsV1Api(api_client)
    operators = Operators(cluster, prometheus, namespace, tmp_path / "operator.log")
    with operators.run(SLOKEEPER_TEST_CRASH_AFTER="Promoting") as first:
        start_guarded(cluster, apps, namespace)
        set_image(cluster, namespace, "1.2")
        eventually(first.process.poll, lambda code: code is not None, "the injected crash", 120)
    crashed = rollout_status(cluster, namespace)
    assert crashed["phase"] == "Promoting"
    assert get(cluster, "deployment", namespace, "checkout")["spec"]["paused"] is True, (
        "killed after recording the decision, before resuming the target"
    )
    with operators.run():
        done = eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: s.get("phase") == "Succeeded",
            "the restarted operator to finish the promotion",
            timeout=90,
        )
    counts = decisions(done["history"][0])
    assert (counts["Promoting"], counts["Promoted"], counts["StepAdvanced"]) == (1, 1, 2)
    eventually(
        lambda: ready_images(client.CoreV1Api(api_client), namespace),
        lambda images: images == ["shop/checkout:1.2"] * REPLICAS,
        "every pod on 1.2, no canary",
    )
    eventually(  # the status is written first, then the tick pauses it
        lambda: get(cluster, "deployment", namespace, "checkout")["spec"].get("paused"),
        bool,
        "the target paused",
    )


def test_killed_right_after_deciding_to_roll_back_no_canary_is_left(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace, apps = solo_namespace, client.AppsV1Api(api_client)
    operators = Operators(cluster, prometheus, namespace, tmp_path / "operator.log")
    with operators.run(SLOKEEPER_TEST_CRASH_AFTER="RolledBack") as first:
        start_guarded(cluster, apps, namespace)
        set_image(cluster, namespace, "1.2-bad")
        eventually(first.process.poll, lambda code: code is not None, "the injected crash", 90)
    crashed = rollout_status(cluster, namespace)
    assert crashed["phase"] == "RolledBack"
    assert ready_replicas(apps, namespace, "checkout-canary") >= 0, (
        "killed after recording the rollback, before removing the canary"
    )
    with operators.run():
        eventually(
            lambda: ready_replicas(apps, namespace, "checkout-canary"),
            lambda n: n == -1,
            "the restarted operator to remove the canary",
        )
        after = rollout_status(cluster, namespace)
    assert after["phase"] == "RolledBack"
    assert len(after["history"]) == 1, "the rollback happened once"
    assert decisions(after["history"][0])["AnalysisFailed"] == 1
    eventually(
        lambda: ready_images(client.CoreV1Api(api_client), namespace),
        lambda images: images == ["shop/checkout:1.1"] * REPLICAS,
        "every pod on 1.1",
    )


def test_a_change_outside_its_window_waits_and_starts_when_the_window_opens(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    prometheus: PrometheusServer,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    """Changes only Tue and Thu 02:00-04:00 UTC; the operator's clock starts at
    Thursday 01:59:20, so the window opens 40 real seconds later."""
    namespace, apps = solo_namespace, client.AppsV1Api(api_client)
    operators = Operators(cluster, prometheus, namespace, tmp_path / "operator.log")
    windows = {"changeWindows": [{"days": ["Tue", "Thu"], "start": "02:00", "end": "04:00"}]}
    with operators.run("--clock-start", "2026-11-26T01:59:20+00:00"):
        deploy_ready(cluster, apps, namespace, REPLICAS, "shop/checkout:1.1")
        apply(cluster, availability_slo(namespace), change_rollout(namespace, gates=windows))
        eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")
        set_image(cluster, namespace, "1.2")
        waiting = eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: s.get("phase") == "WaitingForWindow",
            "the change to wait for its window",
        )
        assert "the next opening is Thu 2026-11-26 02:00 UTC" in waiting["message"], waiting
        assert ready_replicas(apps, namespace, "checkout-canary") == -1
        started = eventually(
            lambda: rollout_status(cluster, namespace),
            lambda s: s.get("phase") == "Progressing",
            "the change to start when the window opens",
            timeout=90,
        )
    began = started["current"]["steps"][0]["startedAt"]
    assert "2026-11-26T02:00:" in began, began  # within the minute the window opened
