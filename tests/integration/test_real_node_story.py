"""User story: the rollout story on real pods with real traffic. A load generator sends 40
requests a second through a Service to four pods of the demo application; the node's Prometheus
scrapes them and the operator reads it. A good version is promoted step by step (25 %, then
50 %), a version failing a fifth of its requests is rolled back on the availability SLO, a
version five times slower on the latency SLO; the stable pods are never restarted or replaced
until a promotion replaces them on purpose, and pods that go away drain first, so no request is
refused."""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from polling import eventually
from running_operator import RunningOperator
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.realnode import story
from slokeeper.localcluster.realnode.images import RealNodeImages
from slokeeper.localcluster.realnode.node import RealNodeCluster

CASES = {"good": story.GOOD, "bad": story.BAD, "slow": story.SLOW}
DONE = ("Succeeded", "RolledBack")


def _json(node: RealNodeCluster, *args: str) -> Any:
    return json.loads(node.kubectl("get", *args, "-o", "json").stdout)


def _pods(node: RealNodeCluster, namespace: str, selector: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _json(node, "pods", "-n", namespace, "-l", selector)["items"]
    return items


def _stable_pods(node: RealNodeCluster, namespace: str) -> dict[str, int]:
    """Each stable pod's uid and restart count (its container's, -1 before it has one)."""
    return {
        pod["metadata"]["uid"]: pod["status"]
        .get("containerStatuses", [{}])[0]
        .get("restartCount", -1)
        for pod in _pods(node, namespace, f"app={story.TARGET},!slokeeper.dev/track")
    }


def _events(node: RealNodeCluster, namespace: str) -> list[tuple[str, str]]:
    found = _json(
        node, "events", "-n", namespace, "--field-selector", "involvedObject.kind=ChangeRollout"
    )["items"]
    ordered = sorted(found, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [(event["reason"], event["message"]) for event in ordered]


def _watch(
    node: RealNodeCluster, namespaces: dict[str, str], stable: dict[str, dict[str, int]]
) -> dict[str, dict[str, Any]]:
    """Poll every case until each change has ended, checking on every look that no stable pod
    was restarted or replaced before a promotion began."""
    seen: dict[str, dict[str, Any]] = {}
    phases: dict[str, list[str]] = {case: [] for case in namespaces}

    def look() -> dict[str, str]:
        for case, namespace in namespaces.items():
            if case in seen and seen[case].get("phase") in DONE:
                continue
            # Pods first: a status read afterwards that is not yet promoting proves the pods
            # were read before the promotion could replace any.
            pods = _stable_pods(node, namespace)
            status = story.rollout_status(node, namespace)
            if status.get("phase") not in ("Promoting", "Succeeded"):
                assert pods == stable[case], f"{case}: stable pods changed: {pods}"
            seen[case] = status
            if not phases[case] or phases[case][-1] != status.get("phase"):
                phases[case].append(f"{status.get('phase')}")
        return {case: status.get("phase", "") for case, status in seen.items()}

    eventually(
        look,
        lambda phase: all(phase.get(case) in DONE for case in namespaces),
        "every change to be promoted or rolled back",
        timeout=150,
        interval=0.5,
    )
    print(f"phases seen: {phases}")
    return seen


def test_real_traffic_promotes_a_good_version_and_rolls_back_a_failing_and_a_slow_one(
    real_node: RealNodeCluster,
    real_node_images: RealNodeImages,
    real_node_prometheus: PrometheusServer,
    real_node_operator: RunningOperator,
) -> None:
    """The three cases run side by side, each in a namespace of its own."""
    began = time.monotonic()
    suffix = secrets.token_hex(2)
    namespaces = {case: f"real-story-{case}-{suffix}" for case in CASES}
    image = real_node_images.demoapp.name
    with ThreadPoolExecutor(len(namespaces)) as pool:
        list(pool.map(lambda ns: story.set_up(real_node, ns, image), namespaces.values()))
    stable = {case: _stable_pods(real_node, ns) for case, ns in namespaces.items()}
    assert all(len(pods) == 4 and set(pods.values()) == {0} for pods in stable.values()), stable
    print(f"set up in {time.monotonic() - began:.0f}s; shipping {CASES}")
    for case, namespace in namespaces.items():
        real_node.kubectl(*story.ship(namespace, CASES[case]))
    shipped = time.monotonic()

    seen = _watch(real_node, namespaces, stable)
    print(f"every change ended {time.monotonic() - shipped:.0f}s after shipping")
    for case in namespaces:
        change = seen[case]["history"][0]
        steps = [(s["weight"], s["canaryWeightPercent"]) for s in change["steps"]]
        print(f"{case}: {change['outcome']} ({change['reason']}) steps {steps}: "
              f"{seen[case].get('message')}")  # fmt: skip
    _assert_promoted(real_node, namespaces["good"], seen["good"])
    _assert_rolled_back(real_node, namespaces["bad"], seen["bad"], stable["bad"], "availability")
    _assert_rolled_back(real_node, namespaces["slow"], seen["slow"], stable["slow"], "latency")
    _assert_no_request_lost(real_node, namespaces)
    for namespace in namespaces.values():
        real_node.kubectl("delete", "namespace", namespace, "--wait=false")


def _assert_promoted(node: RealNodeCluster, namespace: str, status: dict[str, Any]) -> None:
    change = status["history"][0]
    assert (status["phase"], change["outcome"]) == ("Succeeded", "Promoted"), status
    steps = [(s["weight"], s["canaryWeightPercent"]) for s in change["steps"]]
    assert steps == [(25, 20.0), (50, 50.0)], steps  # 1 canary pod beside 4, then 4 beside 4
    assert all(s["passedAnalyses"] >= 1 and s["failedAnalyses"] == 0 for s in change["steps"])
    # Events follow the status write (record, then act): poll for the last one.
    wanted = ("Adopted", "CanaryStarted", "StepAdvanced", "Promoting", "Promoted")
    eventually(
        lambda: [reason for reason, _ in _events(node, namespace)],
        lambda reasons: all(reason in reasons for reason in wanted),
        f"the Events {wanted}",
        timeout=30,
        interval=1,
    )
    assert ("StepAdvanced", "Step 2 of 2: 50%.") in _events(node, namespace)
    # Promotion replaced the stable pods on purpose, with the version that passed.
    eventually(
        lambda: [
            pod["spec"]["containers"][0]["env"][0]["value"]
            for pod in _pods(node, namespace, f"app={story.TARGET}")
        ],
        lambda versions: versions == [story.GOOD.name] * 4,
        "four pods of 1.2 and nothing else once promoted",
    )


def _assert_rolled_back(
    node: RealNodeCluster,
    namespace: str,
    status: dict[str, Any],
    stable: dict[str, int],
    slo: str,
) -> None:
    change = status["history"][0]
    assert (status["phase"], change["outcome"], change["reason"]) == (
        "RolledBack", "RolledBack", "AnalysisFailed",
    ), status  # fmt: skip
    assert len(change["steps"]) == 1, change["steps"]  # stopped at the first step
    failed = f"slo/checkout-{slo} canary burn rate"
    assert failed in status["message"], status["message"]
    other = "latency" if slo == "availability" else "availability"
    assert f"checkout-{other}" not in status["message"], status["message"]
    # Graceful termination complete: no canary Deployment, no canary pod left.
    eventually(
        lambda: (
            [d["metadata"]["name"] for d in _json(node, "deployments", "-n", namespace)["items"]],
            _pods(node, namespace, "slokeeper.dev/track=canary"),
        ),
        lambda seen: sorted(seen[0]) == [story.TARGET, story.LOAD] and not seen[1],
        f"the {slo} canary and its pods to be gone",
    )
    target = _json(node, "deployment", story.TARGET, "-n", namespace)
    assert target["spec"]["paused"] is True
    assert _stable_pods(node, namespace) == stable, "stable pods replaced or restarted"


def _assert_no_request_lost(node: RealNodeCluster, namespaces: dict[str, str]) -> None:
    """Every pod that went away (canaries, and the stable pods a promotion replaced) is gone by
    now: the load generator's next report counts every request sent meanwhile. Pods drain before
    they stop, so none was refused; only the bad version answered 500."""
    before = {case: story.load_counts(node, ns)[0] for case, ns in namespaces.items()}
    reports = eventually(
        lambda: {case: story.load_counts(node, ns) for case, ns in namespaces.items()},
        lambda now: all(now[case][0] != before[case] for case in namespaces),
        "a new report from each load generator",
        timeout=30,
        interval=1,
    )
    for case, (line, _) in reports.items():
        print(f"{case}: {line}")
    assert set(reports["good"][1]) == {"200"}, reports["good"]
    assert set(reports["bad"][1]) == {"200", "500"}, reports["bad"]
    # The slow version's longest requests may outlast its drain or the 5 s client timeout.
    assert reports["slow"][1].get("error", 0) <= 0.01 * sum(reports["slow"][1].values())
