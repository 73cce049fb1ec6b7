"""User story: what a tenant writes into a ChangeRollout never lets a change through unguarded and
never makes slokeeper touch what is not its own. A Deployment that merely carries the canary's name
is left alone (and changes are held until it is renamed); a time zone no zone database knows holds
every change; one that cannot be a zone name is refused by the API server; an abort, an approval
and a promotion with a reason of thousands of characters still act; an SLO query with a PromQL
comment (apostrophes and all) still rolls a bad canary back."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime

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
    phase_is,
    read_status,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import checkout_deployment, deploy_ready, ready_images, ready_replicas, set_image


def ready_reason(cluster: LocalCluster, namespace: str) -> str:
    conditions = read_status(cluster, "crollout", namespace, "checkout").get("conditions", [])
    return next((c["reason"] for c in conditions if c["type"] == "Ready"), "")


def test_a_deployment_named_like_the_canary_is_left_alone_and_changes_are_held(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    bystander = checkout_deployment("checkout-canary", 1, "shop/bystander:7", variant="other")
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=bystander)
    uid = get(cluster, "deployment", namespace, "checkout-canary")["metadata"]["uid"]
    apply(cluster, availability_slo(namespace), change_rollout(namespace))
    eventually(
        lambda: ready_reason(cluster, namespace),
        lambda reason: reason == "CanaryNameTaken",
        "the ChangeRollout to say the canary's name is taken",
    )
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: get(cluster, "deployment", namespace, "checkout")["spec"].get("paused"),
        lambda paused: paused is True,
        "the target held (paused)",
    )
    eventually(
        lambda: ready_images(core, namespace),
        lambda images: images.count("shop/checkout:1.1") == 4 and "shop/checkout:1.2" not in images,
        "4 pods of 1.1 and none of the unguarded 1.2",
    )
    found = get(cluster, "deployment", namespace, "checkout-canary")
    assert found["metadata"]["uid"] == uid, "the bystander was replaced"
    assert found["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/bystander:7"


def test_a_time_zone_that_is_not_a_zone_holds_changes_and_a_malformed_one_is_refused(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    core = client.CoreV1Api(api_client)
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace), change_rollout(namespace)
    )

    refused = cluster.kubectl(
        "apply", "-f", "-", check=False,
        input_text=json.dumps(change_rollout(namespace, gates={"timeZone": "../../etc/passwd"})),
    )  # fmt: skip
    assert refused.returncode != 0
    assert "spec.gates.timeZone" in refused.stderr, refused.stderr

    # A window or interval of nothing would make every tick fail while a canary serves.
    for spec, field in (
        ({"analysis": {"window": "0s"}}, "spec.analysis.window"),
        ({"analysis": {"interval": "1ms"}}, "spec.analysis.interval"),
        ({"progressDeadline": "0s"}, "spec.progressDeadline"),
    ):
        stalling = cluster.kubectl(
            "apply",
            "-f",
            "-",
            check=False,
            input_text=json.dumps(change_rollout(namespace, **spec)),
        )
        assert stalling.returncode != 0, spec
        assert field in stalling.stderr, stalling.stderr
        assert "must be at least" in stalling.stderr, stalling.stderr

    apply(cluster, change_rollout(namespace, gates={"timeZone": "Mars/Olympus"}))
    eventually(
        lambda: ready_reason(cluster, namespace),
        lambda reason: reason == "InvalidSpec",
        "the unknown zone to be reported",
    )
    assert "unknown time zone 'Mars/Olympus'" in json.dumps(rollout_status(cluster, namespace))
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: (
            get(cluster, "deployment", namespace, "checkout")["spec"].get("paused"),
            ready_images(core, namespace),
        ),
        lambda seen: seen[0] is True and seen[1] == ["shop/checkout:1.1"] * 4,
        "the change held: the target paused on 4 pods of 1.1",
    )


def test_an_abort_with_a_very_long_reason_still_rolls_the_canary_back(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    apps = client.AppsV1Api(api_client)
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, steps=[{"weight": 25, "pause": "10m"}]),
    )  # fmt: skip
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"), lambda n: n == 1, "canary"
    )
    ask(cluster, namespace, "abort", by="mallory", reason="x" * 5000)
    aborted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=1),
        "the abort to roll the canary back",
    )
    decision = next(
        d for d in aborted["history"][0]["decisions"] if d["reason"] == "RequestedByPerson"
    )
    assert decision["message"] == "abort by mallory: " + "x" * 1024
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"),
        lambda n: n == -1,
        "no canary after the abort",
    )


def test_an_approval_and_a_promotion_with_very_long_reasons_still_act(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """Issue 23, point 1: a reason over 1,024 characters failed every tick; status keeps the
    first 1,024, and the request is acted on."""
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="High", steps=[{"weight": 25, "pause": "10m"}]),
    )  # fmt: skip
    set_image(cluster, namespace, "1.2")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "gate")
    ask(cluster, namespace, "approve", by="bob", reason="y" * 5000)
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Progressing"),
        "bob's approval to start the canary",
    )
    (approval,) = started["current"]["approvals"]
    assert (approval["by"], approval["reason"]) == ("bob", "y" * 1024), approval
    eventually(
        lambda: ready_replicas(apps, namespace, "checkout-canary"), lambda n: n == 1, "canary"
    )
    ask(cluster, namespace, "promote", by="carol", reason="z" * 5000)
    promoted = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Succeeded", changes=1),
        "carol's promotion to roll 1.2 out",
        timeout=90,
    )
    messages = [d["message"] for d in promoted["history"][0]["decisions"]]
    said = [m for m in messages if "carol" in m]
    assert said, messages
    assert all("z" * 1024 in m and "z" * 1025 not in m for m in said), said
    eventually(
        lambda: (ready_images(core, namespace), ready_replicas(apps, namespace, "checkout-canary")),
        lambda seen: seen == (["shop/checkout:1.2"] * 4, -1),
        "4 pods of 1.2 and no canary",
    )


def test_an_slo_query_with_a_commented_apostrophe_still_rolls_a_bad_canary_back(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """Issue 23, point 1: a PromQL comment with an apostrophe crashed the narrowing of the SLO's
    query to the canary's pods in every tick, and a canary failing 20 % of requests served on."""
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)
    commented = (
        f'sum(rate(http_requests_total{{namespace="{namespace}", # don\'t page on 4xx\n'
        'code=~"5.."}[{{.window}}]))'
    )
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace, errors=commented),
        change_rollout(namespace),
    )  # fmt: skip
    ratio = get(cluster, "slo", namespace, "checkout-availability")["spec"]["indicator"]["ratio"]
    assert "# don't page" in ratio["errors"], ratio
    set_image(cluster, namespace, "1.2-bad")
    rolled_back = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("RolledBack", changes=1),
        "the failing canary to be rolled back",
        timeout=90,
    )
    change = rolled_back["history"][0]
    assert (change["outcome"], change["reason"]) == ("RolledBack", "AnalysisFailed"), change
    failed = change["steps"][-1]["lastAnalysis"]
    burn = next(m for m in failed["measurements"] if m["name"].endswith("burn rate"))
    assert burn["name"] == "slo/checkout-availability canary burn rate", burn
    assert burn["passed"] is False, burn
    assert burn["value"] > 5, burn
    eventually(
        lambda: (ready_replicas(apps, namespace, "checkout-canary"), ready_images(core, namespace)),
        lambda seen: seen == (-1, ["shop/checkout:1.1"] * 4),
        "no canary left, 4 pods of 1.1",
    )


def test_an_approval_counts_only_for_the_template_it_names(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """Issue 22, point 6: approvals given while 6.6.6-evil waited, then the template swapped to
    9.9.9-other before the operator saw them: 9.9.9-other still waits for its own approval."""
    apps = client.AppsV1Api(api_client)
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="High"),
    )  # fmt: skip
    set_image(cluster, namespace, "6.6.6-evil")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "gate")
    os.kill(operator_process.process.pid, signal.SIGSTOP)
    try:
        ask(cluster, namespace, "approve", by="bob", reason="reviewed 6.6.6")
        set_image(cluster, namespace, "9.9.9-other")
    finally:
        os.kill(operator_process.process.pid, signal.SIGCONT)
    refused = eventually(
        lambda: [
            e["message"]
            for e in events(cluster, namespace, "ChangeRollout")
            if e["reason"] == "ApprovalRefused"
        ],
        bool,
        "the approval for 6.6.6-evil to be refused for 9.9.9-other",
    )
    assert "Approval by bob ignored: it names template" in refused[0]
    waiting = rollout_status(cluster, namespace)
    assert waiting["phase"] == "AwaitingApproval", waiting
    assert waiting["current"]["revision"]["images"] == ["shop/checkout:9.9.9-other"]
    assert not waiting["current"].get("approvals")
    assert ready_replicas(apps, namespace, "checkout-canary") == -1, "no canary of 9.9.9-other"


def test_an_approval_in_a_role_counts_only_for_the_template_it_was_given_for(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    """The same race for approvals in a role, whose plain `<username>[: reason]` value names no
    template: the API server's managedFields say when each was set, and one set before the
    template changed does not count for the new template."""
    roles = {
        "roles": [{"name": "on-call", "users": ["bob"]}],
        "riskRoles": {"high": ["on-call"]},
    }
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, risk="High", gates={"approval": roles}),
    )  # fmt: skip
    set_image(cluster, namespace, "6.6.6-evil")
    eventually(lambda: rollout_status(cluster, namespace), phase_is("AwaitingApproval"), "gate")

    def approve() -> None:
        cluster.kubectl(
            "annotate", "crollout", "checkout", "-n", namespace, "--overwrite",
            "slokeeper.dev/approve.on-call=bob: reviewed",
        )  # fmt: skip

    os.kill(operator_process.process.pid, signal.SIGSTOP)
    try:
        approve()
        set_image(cluster, namespace, "9.9.9-other")
        swapped = datetime.now(UTC)
    finally:
        os.kill(operator_process.process.pid, signal.SIGCONT)
    refused = eventually(
        lambda: [
            e["message"]
            for e in events(cluster, namespace, "ChangeRollout")
            if e["reason"] == "ApprovalRefused"
        ],
        bool,
        "the on-call approval given for 6.6.6-evil to be refused for 9.9.9-other",
    )
    assert "bob cannot approve as on-call: it was given before the template changed" in refused[0]
    assert rollout_status(cluster, namespace)["phase"] == "AwaitingApproval"
    # Given again, for the template now waiting, it counts. (The API server records times to
    # the second, and an approval in the same second as the change is taken as before it: a
    # person approves at least a second after the template they read.)
    eventually(
        lambda: datetime.now(UTC).replace(microsecond=0),
        lambda now: now > swapped.replace(microsecond=0),
        "the second after the template change",
    )
    approve()
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        phase_is("Progressing"),
        "bob's new approval to start 9.9.9-other",
    )
    assert started["current"]["revision"]["images"] == ["shop/checkout:9.9.9-other"]
