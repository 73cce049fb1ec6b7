"""User story (issue 22, points 11 and 12): the operator distrusts what a Prometheus, or a proxy
in front of it, says. A fake Prometheus written for this test answers every query with a 1 GiB
body: the operator stops reading at its 64 MiB default, its SLO says PrometheusUnreachable in a
short message, and its peak memory grows by little more than the cap. Another answers with an
error echoing the request's Authorization header: the bearer token reaches neither the SLO's
status, nor its Events, nor the operator's log. A Prometheus that takes a query and never answers
(under a total deadline long enough to wait for it) stalls a loop: liveness says which, and is
healthy again once the loop moves."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client

from hostile_prometheus import HostilePrometheus
from polling import eventually
from resources import (
    apply,
    availability_slo,
    change_rollout,
    read_status,
    ready_condition,
    rollout_status,
)
from running_operator import running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from slokeeper.transport.response_limit import MIB
from workloads import deploy_ready, ready_replicas, set_image

TOKEN = "tok-echoed-4b1d9c0e7f"
# What loopback buffers hold beyond what the client read (tcp_rmem's 32 MiB, tcp_wmem's 4 MiB).
BUFFERED = 40 * MIB
EMPTY = {"status": "success", "data": {"resultType": "vector", "result": []}}


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _events_text(cluster: LocalCluster, namespace: str) -> str:
    listed = cluster.kubectl("get", "events", "-n", namespace, "-o", "json").stdout
    return "\n".join(item.get("message", "") for item in json.loads(listed)["items"])


def _liveness(url: str) -> tuple[int, str]:
    """What the kubelet's liveness probe reads: the status code and the body."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _ready(cluster: LocalCluster, namespace: str) -> dict[str, Any]:
    return ready_condition(read_status(cluster, "slo", namespace, "checkout-availability"))


def test_an_echoed_token_reaches_no_status_event_or_log(
    cluster: LocalCluster, crds_installed: Path, solo_namespace: str, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text(TOKEN)
    log = tmp_path / "operator.log"
    cluster.kubectl("apply", "-f", "-", input_text=json.dumps(availability_slo(solo_namespace)))
    with (
        HostilePrometheus(error_status=400) as fake,
        running_operator(
            cluster.kubeconfig,
            fake.url,
            log,
            namespaces=(solo_namespace,),
            extra_args=("--prometheus-bearer-token-file", str(tmp_path / "token")),
        ),
    ):
        ready = eventually(
            lambda: _ready(cluster, solo_namespace),
            lambda condition: "Authorization" in condition.get("message", ""),
            "the SLO's status to quote the fake Prometheus' error",
            timeout=90,
        )
        eventually(
            lambda: _events_text(cluster, solo_namespace),
            lambda text: "Authorization" in text,
            "an Event quoting the fake Prometheus' error",
            timeout=60,
        )
    assert f"Bearer {TOKEN}" in fake.authorizations  # the token was sent and echoed back
    assert "Authorization: [redacted]" in ready["message"], ready
    status = json.dumps(read_status(cluster, "slo", solo_namespace, "checkout-availability"))
    assert TOKEN not in status
    assert TOKEN not in _events_text(cluster, solo_namespace)
    assert "Authorization: [redacted]" in log.read_text()  # the error was logged, redacted
    assert TOKEN not in log.read_text()


def test_a_huge_answer_is_cut_off_at_the_cap_and_reported(
    cluster: LocalCluster, crds_installed: Path, solo_namespace: str, tmp_path: Path
) -> None:
    cluster.kubectl("apply", "-f", "-", input_text=json.dumps(availability_slo(solo_namespace)))
    # The same operator against a fake that answers small: its peak memory without huge answers.
    with (
        HostilePrometheus(error_status=400) as small,
        running_operator(
            cluster.kubeconfig, small.url, tmp_path / "small.log", namespaces=(solo_namespace,)
        ) as running,
    ):
        eventually(
            lambda: _ready(cluster, solo_namespace).get("reason", ""),
            lambda reason: reason == "PrometheusUnreachable",
            "the SLO to report the small fake's error",
            timeout=90,
        )
        baseline = _peak_rss(running.process.pid)
    with (
        HostilePrometheus(huge_bytes=1024 * MIB) as huge,
        running_operator(
            cluster.kubeconfig, huge.url, tmp_path / "huge.log", namespaces=(solo_namespace,)
        ) as running,
    ):
        ready = eventually(
            lambda: _ready(cluster, solo_namespace),
            lambda condition: "answer larger than" in condition.get("message", ""),
            "the SLO to report the huge answer",
            timeout=120,
        )
        eventually(lambda: len(huge.sent), lambda n: n >= 3, "three huge answers", timeout=120)
        peak = _peak_rss(running.process.pid)
        sent = list(huge.sent)
    print(
        f"peak RSS {baseline / MIB:.0f} MiB with small answers, {peak / MIB:.0f} MiB with 1 GiB "
        f"answers; MiB sent per huge answer: {[round(s / MIB) for s in sent]}"
    )
    assert ready["reason"] == "PrometheusUnreachable", ready
    assert ready["message"] == (
        f"Prometheus at {huge.url} did not answer: answer larger than 64 MiB, the most slokeeper "
        "reads"
    )
    assert all(s < 64 * MIB + BUFFERED for s in sent), sent
    assert peak - baseline < 2 * 64 * MIB, (baseline, peak)


def test_a_prometheus_trickling_a_byte_a_second_holds_neither_loop(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    """Issue 23, point 2: the read timeout applies per byte, so a Prometheus sending one byte a
    second used to hold both loops (no status write in 70 s) while /healthz said 200. Every
    query now has a total deadline (--prometheus-timeout 3s here): the SLO says Prometheus did
    not answer, the canary's analysis says so too, and the operator stays live."""
    namespace = solo_namespace
    apps = client.AppsV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    apply(
        cluster,
        availability_slo(namespace),
        change_rollout(namespace, steps=[{"weight": 25, "pause": "10m"}]),
    )
    with (
        HostilePrometheus(trickle=True) as slow,
        running_operator(
            cluster.kubeconfig,
            slow.url,
            tmp_path / "operator.log",
            namespaces=(namespace,),
            extra_args=("--prometheus-timeout", "3s"),
        ) as running,
    ):
        ready = eventually(
            lambda: _ready(cluster, namespace),
            lambda condition: condition.get("reason") == "PrometheusUnreachable",
            "the SLO to say Prometheus did not answer in time",
            timeout=90,
        )
        assert "no complete answer within 3s" in ready["message"], ready
        eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")
        set_image(cluster, namespace, "1.2")
        analysed = eventually(
            lambda: (rollout_status(cluster, namespace).get("current") or {}).get("analyses", []),
            lambda analyses: any(a["outcome"] == "PrometheusUnreachable" for a in analyses),
            "the canary's analysis to say Prometheus did not answer",
            timeout=90,
        )
        assert "no complete answer within 3s" in analysed[-1]["message"], analysed[-1]
        with urllib.request.urlopen(running.health_url, timeout=5) as answer:
            assert answer.status == 200


def test_liveness_names_a_loop_stalled_on_a_prometheus_that_never_answers(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    """Issue 23, point 2: liveness sees a loop that stopped making progress. With a 10-minute
    query deadline, a Prometheus that takes the canary's analysis queries and never answers
    holds the rollout scheduler's tick, then one that takes every query holds the SLO loop:
    /healthz answers 503 naming each, and 200 again once its queries are answered. (The time
    after which a loop counts as stuck is 5 minutes; SLOKEEPER_TEST_STALLED_AFTER makes it
    8 s here.)"""
    namespace = solo_namespace
    apps = client.AppsV1Api(api_client)
    deploy_ready(cluster, apps, namespace, 4, "shop/checkout:1.1")
    apply(
        cluster,
        availability_slo(namespace),
        change_rollout(namespace, steps=[{"weight": 25, "pause": "10m"}]),
    )
    with (
        HostilePrometheus(answer=EMPTY) as silent,
        running_operator(
            cluster.kubeconfig,
            silent.url,
            tmp_path / "operator.log",
            namespaces=(namespace,),
            extra_args=("--prometheus-timeout", "10m"),
            env={"SLOKEEPER_TEST_STALLED_AFTER": "8"},
        ) as running,
    ):
        eventually(lambda: rollout_status(cluster, namespace), lambda s: "stable" in s, "adoption")
        eventually(
            lambda: _liveness(running.health_url),
            lambda probe: probe == (200, "ok\n"),
            "liveness to pass while Prometheus answers",
        )
        silent.hold("checkout-canary")
        set_image(cluster, namespace, "1.2")
        eventually(
            lambda: ready_replicas(apps, namespace, "checkout-canary"), lambda n: n == 1, "canary"
        )
        _, said = eventually(
            lambda: _liveness(running.health_url),
            lambda probe: probe[0] == 503,
            "liveness to fail on the tick held by the canary's analysis",
            timeout=60,
        )
        assert silent.held >= 1
        assert said.startswith(f"rollout scheduler: the tick of {namespace}/checkout has been "), (
            said
        )
        silent.release()
        eventually(
            lambda: _liveness(running.health_url),
            lambda probe: probe == (200, "ok\n"),
            "liveness to pass once the tick ends",
            timeout=60,
        )

        silent.hold()
        _, said = eventually(
            lambda: _liveness(running.health_url),
            lambda probe: probe[0] == 503 and probe[1].startswith("SLO loop"),
            "liveness to fail on the SLO loop held by every query",
            timeout=60,
        )
        assert said.startswith("SLO loop: no evaluation cycle has finished since "), said
        silent.release()
        eventually(
            lambda: _liveness(running.health_url),
            lambda probe: probe == (200, "ok\n"),
            "liveness to pass once the SLO loop moves",
            timeout=60,
        )
