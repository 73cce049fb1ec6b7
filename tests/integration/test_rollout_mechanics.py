"""User story: the rollout state machine's actions, applied to real controllers, take a guarded
Deployment through a canary to promotion — or back to stable — without a pod template ever being
rewritten by hand. (Verdicts are given here; the rollout loop will take them from Prometheus.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from invalid_resources import sample
from polling import eventually
from slokeeper.api.references import ObjectRef
from slokeeper.kube.canary import canary_name
from slokeeper.kube.events import EventRecorder
from slokeeper.kube.rollout_target import TargetActions, read_target
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.rollout.analysis import Outcome
from slokeeper.rollout.state_machine import advance
from slokeeper.rollout.states import Phase, Plan, State, World
from workloads import deploy_ready, ready_images, ready_replicas

PLAN = Plan(weights=(5, 25, 50), pauses_seconds=(60, 60, 60), failure_limit=2)


class Driver:
    """Observe → advance → apply, one tick at a time, with a clock the test moves."""

    def __init__(self, cluster: LocalCluster, api: client.ApiClient, namespace: str) -> None:
        rollout = sample("changerollout.yaml")
        rollout["metadata"]["namespace"] = namespace
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(rollout))
        body = json.loads(
            cluster.kubectl("get", "crollout", "checkout", "-n", namespace, "-o", "json").stdout
        )
        owner = ObjectRef("ChangeRollout", namespace, "checkout", body["metadata"]["uid"])
        self.api, self.namespace = api, namespace
        self.actions = TargetActions(api, EventRecorder(api), owner)
        self.state, self.now = State(), datetime(2026, 11, 25, 12, tzinfo=UTC)

    def tick(self, seconds: float = 0, **world: Any) -> State:
        self.now += timedelta(seconds=seconds)
        target = read_target(self.api, self.namespace, "checkout")
        observed = World(target.template_hash, target.replicas, target.rolled_out, **world)
        self.state, actions = advance(PLAN, self.state, observed, self.now)
        self.actions.apply(target, actions)
        return self.state


def test_a_good_change_is_promoted_and_a_bad_one_rolled_back(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    crds_installed: Path,
    solo_namespace: str,
) -> None:
    namespace = solo_namespace  # driven by hand here: no operator may act on it
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    driver = Driver(cluster, api_client, namespace)
    assert driver.tick().phase is Phase.IDLE  # adopted, target paused
    assert apps.read_namespaced_deployment("checkout", namespace).spec.paused

    cluster.kubectl(
        "set", "image", "deployment/checkout", "checkout=shop/checkout:1.2", "-n", namespace
    )
    assert driver.tick().phase is Phase.PROGRESSING
    eventually(
        lambda: ready_images(core, namespace),
        lambda i: i == ["shop/checkout:1.1"] * 4 + ["shop/checkout:1.2"],
        "a 1.2 canary beside 4 stable pods",
    )
    driver.tick()  # the step's pods seen Ready: its pause counts from here, as the loop's tick

    for expected_canary in (1, 4):  # 25 % of 4 stable: 1 (20 %); 50 %: 4
        driver.tick(61, verdict=Outcome.PASS)
        eventually(
            lambda: ready_replicas(apps, namespace, canary_name("checkout")),
            lambda n, e=expected_canary: n == e,
            f"{expected_canary} canary pods",
        )
        driver.tick()
    assert driver.tick(61, verdict=Outcome.PASS).phase is Phase.PROMOTING
    eventually(
        lambda: read_target(api_client, namespace, "checkout").rolled_out,
        bool,
        "the native rollout of 1.2",
    )
    assert driver.tick().phase is Phase.SUCCEEDED
    eventually(
        lambda: ready_images(core, namespace),
        lambda i: i == ["shop/checkout:1.2"] * 4,
        "4 pods of 1.2 and no canary",
    )
    assert apps.read_namespaced_deployment("checkout", namespace).spec.paused

    cluster.kubectl(
        "set", "image", "deployment/checkout", "checkout=shop/checkout:1.3-bad", "-n", namespace
    )
    assert driver.tick().phase is Phase.PROGRESSING
    eventually(
        lambda: ready_replicas(apps, namespace, canary_name("checkout")),
        lambda n: n == 1,
        "the bad canary",
    )
    driver.tick(10, verdict=Outcome.FAIL, verdict_message="burn rate 200")
    assert (
        driver.tick(10, verdict=Outcome.FAIL, verdict_message="burn rate 200").phase
        is Phase.ROLLED_BACK
    )
    eventually(
        lambda: ready_images(core, namespace),
        lambda i: i == ["shop/checkout:1.2"] * 4,
        "back to 4 pods of 1.2 only",
    )
    target = apps.read_namespaced_deployment("checkout", namespace)
    assert target.spec.paused
    assert (
        target.spec.template.spec.containers[0].image == "shop/checkout:1.3-bad"
    )  # never rewritten
    reasons = cluster.kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        "involvedObject.kind=ChangeRollout",
        "-o",
        "jsonpath={.items[*].reason}",
    ).stdout.split()
    assert {
        "Adopted",
        "CanaryStarted",
        "StepAdvanced",
        "Promoting",
        "Promoted",
        "AnalysisFailed",
    } <= set(reasons)
