"""User story: the people around a change. A spent error budget blocks it, naming the SLO and its
budget, until an on-call engineer overrides with a reason; a High-risk change waits for an
approval; `abort` rolls a canary back, `promote` skips the remaining steps; deleting the
ChangeRollout hands the Deployment back. Every request is recorded with who asked and why."""

from __future__ import annotations

from kubernetes import client

from polling import eventually
from resources import (
    adopt_checkout,
    apply,
    ask,
    availability_slo,
    change_rollout,
    events,
    get,
    held_past_its_pause,
    phase_is,
    read_status,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import checkout_deployment, deploy_ready, ready_replicas, set_image

LONG_STEPS = [{"weight": w, "pause": "10m"} for w in (5, 25, 50)]


def test_a_spent_budget_blocks_until_an_override_with_a_reason(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    # A legacy pod failing 20 % of its requests has spent the namespace's checkout budget.
    legacy = checkout_deployment("checkout-legacy", 1, "shop/checkout:0.9-bad", "legacy")
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=legacy)
    spent = availability_slo(namespace)
    guarded = change_rollout(
        namespace,
        gates={"sloBudgetPolicies": ["checkout-availability"]},
        analysis={
            "interval": "3s",
            "window": "20s",
            "slos": [{"name": "checkout-availability", "maxBurnRate": 2}],
            "minRequestCount": 50,
        },
    )
    deploy_ready(cluster, client.AppsV1Api(api_client), namespace, 4, "shop/checkout:1.1")
    apply(cluster, spent)
    eventually(
        lambda: read_status(cluster, "slo", namespace, "checkout-availability"),
        lambda s: s.get("policyAction") == "freeze",
        "the SLO's budget policy to say freeze",
        timeout=90,
    )
    adopt_checkout(cluster, api_client, namespace, guarded)

    set_image(cluster, namespace, "1.2")
    blocked = eventually(
        lambda: rollout_status(cluster, namespace), phase_is("Blocked"), "the change to be Blocked"
    )
    assert "SLO checkout-availability has -" in blocked["message"], blocked["message"]
    assert "% of its error budget left (policy: freeze)" in blocked["message"]
    assert ready_replicas(client.AppsV1Api(api_client), namespace, "checkout-canary") == -1

    ask(cluster, namespace, "override", by="oncall-carol")
    eventually(
        lambda: [e["reason"] for e in events(cluster, namespace, "ChangeRollout")],
        lambda reasons: "OverrideRefused" in reasons,
        "an override without a reason to be refused",
    )
    assert rollout_status(cluster, namespace)["phase"] == "Blocked"
    ask(cluster, namespace, "override", by="oncall-carol", reason="INC-4711 hotfix")
    promoted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Succeeded", changes=1),
        "the overridden change to be promoted",
        timeout=150,
    )
    change = promoted["history"][0]
    assert change["override"]["by"] == "oncall-carol"
    assert change["override"]["reason"] == "INC-4711 hotfix"
    overridden = [e for e in events(cluster, namespace, "ChangeRollout")
                  if e["reason"] == "GateOverridden"]  # fmt: skip
    assert len(overridden) == 1
    assert "oncall-carol: INC-4711 hotfix" in overridden[0]["message"]


def test_high_risk_waits_for_approval_and_people_can_abort_promote_and_let_go(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    apps = client.AppsV1Api(api_client)
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, risk="High", steps=LONG_STEPS),
    )

    set_image(cluster, namespace, "1.2")
    waiting = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("AwaitingApproval"),
        "the High-risk change to wait for an approval",
    )
    assert waiting["message"] == "risk High needs an approval."
    ask(cluster, namespace, "approve", by="bob", reason="reviewed in CHG-12")
    running = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Progressing"),
        "the approved change to start",
    )
    assert [a["by"] for a in running["current"]["approvals"]] == ["bob"]

    # abort during a step: rolled back, recorded as aborted by whom.
    ask(cluster, namespace, "abort", by="alice", reason="wrong build")
    aborted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=1),
        "the abort to roll the canary back",
    )
    change = aborted["history"][0]
    assert (change["outcome"], change["approvals"][0]["by"]) == ("Aborted", "bob")
    assert any(d["message"] == "abort by alice: wrong build" for d in change["decisions"])
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == -1,
        "no canary after the abort",
    )

    # promote: the remaining steps (10 minutes each) are skipped.
    set_image(cluster, namespace, "1.3")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "approval")
    ask(cluster, namespace, "approve", by="bob")
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == 1,
        "the 1.3 canary to be Ready",
    )
    ask(cluster, namespace, "promote", by="alice", reason="customer waiting")
    promoted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Succeeded", changes=2),
        "the promote request to promote 1.3",
        timeout=90,
    )
    change = promoted["history"][0]
    assert (change["outcome"], len(change["steps"])) == ("Promoted", 1)
    target = get(cluster, "deployment", namespace, "checkout")
    assert target["spec"]["paused"] is True

    # Deleting the ChangeRollout at rest hands the Deployment back, resumed, on its template.
    cluster.kubectl("delete", "crollout", "checkout", "-n", namespace, "--wait=true")
    released = get(cluster, "deployment", namespace, "checkout")
    assert not released["spec"].get("paused"), "the target must be resumed"
    assert released["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/checkout:1.3"
    assert ready_replicas(apps, namespace, "checkout-canary") == -1


def test_deleting_mid_change_keeps_the_target_paused_on_stable(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    apps = client.AppsV1Api(api_client)
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, steps=LONG_STEPS),
    )
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == 1,
        "the canary to be Ready",
    )
    cluster.kubectl("delete", "crollout", "checkout", "-n", namespace, "--wait=true")
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == -1,
        "the canary to be removed with its ChangeRollout",
    )
    target = get(cluster, "deployment", namespace, "checkout")
    assert target["spec"]["paused"] is True, "an unverified template is not rolled out"
    left = [e for e in events(cluster, namespace, "Deployment") if e["reason"] == "LeftPaused"]
    assert left, "an Event on the Deployment says why it stays paused"
    assert "kubectl rollout resume deployment/checkout" in left[0]["message"]


def test_a_missing_target_is_a_condition_and_an_event_then_adopted_when_it_appears(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    apply(cluster, availability_slo(namespace), change_rollout(namespace))
    missing = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: any(c.get("reason") == "TargetMissing" for c in s.get("conditions", [])),
        "the ChangeRollout to report its missing target",
    )
    ready = next(c for c in missing["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert f"Deployment {namespace}/checkout not found" in ready["message"]
    assert [e["reason"] for e in events(cluster, namespace, "ChangeRollout")] == ["TargetMissing"]

    deploy_ready(cluster, client.AppsV1Api(api_client), namespace, 2, "shop/checkout:1.1")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("stable", {}).get("images") == ["shop/checkout:1.1"],
        "the Deployment to be adopted once it exists",
    )


def test_a_paused_rollout_holds_its_step_until_resumed(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace), change_rollout(namespace)
    )
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("reason") == "AnalysisPassed",
        "the first step's analyses to pass",
        timeout=60,
    )
    ask(cluster, namespace, "paused", by="dave", reason="watching a dashboard")
    held = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("reason") == "Paused" and held_past_its_pause(s, 10),
        "the passing step to be held by the pause, past its 10 s pause",
        timeout=60,
    )
    assert held["paused"]["by"] == "dave"
    assert held["current"]["step"] == 0
    assert "Paused by dave: watching a dashboard." in held["message"]
    cluster.kubectl("annotate", "crollout", "checkout", "-n", namespace, "slokeeper.dev/paused-")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Succeeded",
        "the resumed rollout to finish",
        timeout=120,
    )
    reasons = [e["reason"] for e in events(cluster, namespace, "ChangeRollout")]
    assert {"RolloutPaused", "RolloutResumed"} <= set(reasons)


def test_a_pause_mid_step_shows_at_once_not_at_the_next_analysis(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """Analyses 30 s apart: a pause shown within 10 s of the request is the pause itself, not a
    passing analysis that happened to come next."""
    slow = {
        "interval": "30s",
        "window": "20s",
        "slos": [{"name": "checkout-availability", "maxBurnRate": 2}],
        "minRequestCount": 50,
    }
    adopt_checkout(
        cluster,
        api_client,
        namespace,
        availability_slo(namespace),
        change_rollout(namespace, steps=LONG_STEPS, analysis=slow),
    )
    set_image(cluster, namespace, "1.2")
    passed = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("reason") == "AnalysisPassed",
        "the first step's analysis to pass",
        timeout=120,
    )
    analyses = len(passed["current"]["analyses"])
    ask(cluster, namespace, "paused", by="dave", reason="watching a dashboard")
    held = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("reason") == "Paused",
        "the step to show the pause at once",
        timeout=10,
    )
    assert (held["phase"], held["message"]) == (
        "Progressing",
        "Paused by dave: watching a dashboard.",
    )
    assert len(held["current"]["analyses"]) == analyses, "no analysis ran in between"
    row = cluster.kubectl("get", "crollout", "checkout", "-n", namespace).stdout
    assert "Paused" in row, row
    cluster.kubectl("annotate", "crollout", "checkout", "-n", namespace, "slokeeper.dev/paused-")
    resumed = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("reason") != "Paused",
        "the lifted pause to show at once",
        timeout=10,
    )
    assert resumed["reason"] == "Resumed", resumed["reason"]
