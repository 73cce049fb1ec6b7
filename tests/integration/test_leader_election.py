"""User story: the chart runs two replicas of the operator. Exactly one acts; the other stays
alive and ready (it watches the Lease, so a rolling update can go on) and says on /metrics that it
stands by; it takes over at once when the leader stops cleanly, or once its Lease has expired when
the leader dies without a word — never while the old leader may still act."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import requests

from polling import eventually
from resources import apply, availability_slo, read_status, ready_condition
from running_operator import RunningOperator, running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer


def probe(operator: RunningOperator, path: str) -> tuple[int, str]:
    url = operator.health_url.replace("/healthz", path)
    try:
        answer = requests.get(url, timeout=2)
    except requests.RequestException as error:
        return 0, str(error)
    return answer.status_code, answer.text.strip()


def leading(operator: RunningOperator) -> str:
    """The replica's slokeeper_leader gauge as text ("1.0", "0.0"), or why it cannot be read."""
    try:
        text = requests.get(operator.metrics_url, timeout=2).text
    except requests.RequestException as error:
        return str(error)
    for line in text.splitlines():
        if line.startswith("slokeeper_leader "):
            return line.split()[1]
    return "no slokeeper_leader gauge"


def lease_holder(cluster: LocalCluster, namespace: str) -> str:
    found = cluster.kubectl(
        "get", "lease", "slokeeper", "-n", namespace,
        "-o", "jsonpath={.spec.holderIdentity}", check=False,
    )  # fmt: skip
    return found.stdout.strip()


def evaluated(cluster: LocalCluster, namespace: str, name: str) -> None:
    eventually(
        lambda: ready_condition(read_status(cluster, "slo", namespace, name)),
        lambda condition: condition.get("status") in ("True", "False"),
        f"SLO {name} evaluated by the leader",
    )


def test_one_replica_acts_and_another_takes_over_when_it_stops_or_dies(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    crds_installed: Path,
    solo_namespace: str,
    tmp_path: Path,
) -> None:
    namespace = solo_namespace
    args = ("--leader-elect", "--leader-election-namespace", namespace)

    def replica(name: str) -> RunningOperator:
        return stack.enter_context(
            running_operator(
                cluster.kubeconfig,
                prometheus.url,
                tmp_path / f"{name}.log",
                namespaces=(namespace,),
                extra_args=args,
            )
        )

    with ExitStack() as stack:
        first = replica("first")
        eventually(lambda: leading(first), lambda seen: seen == "1.0", "first to lead")
        eventually(lambda: probe(first, "/readyz"), lambda seen: seen == (200, "ok"), "first ready")
        first_identity = lease_holder(cluster, namespace)
        assert first_identity

        second = replica("second")
        standby = eventually(
            lambda: probe(second, "/readyz"), lambda seen: seen[0] == 200, "second ready"
        )
        assert standby[1] == f"standing by for Lease {namespace}/slokeeper; ready to take over"
        assert leading(second) == "0.0"
        assert probe(second, "/healthz")[0] == 200, "a standby replica must stay alive"
        apply(cluster, availability_slo(namespace, "while-first-leads"))
        evaluated(cluster, namespace, "while-first-leads")
        assert lease_holder(cluster, namespace) == first_identity
        assert "SLO cycle" not in second.log.read_text(), "the standby replica acted"

        # A clean stop (a rolling update, a drained node) gives the lease up: no wait.
        stopped_at = time.monotonic()
        first.process.terminate()
        first.process.wait(timeout=30)
        eventually(
            lambda: leading(second),
            lambda seen: seen == "1.0",
            "second to lead after first stopped",
            timeout=30,
        )
        clean_handover = time.monotonic() - stopped_at
        second_identity = lease_holder(cluster, namespace)
        assert second_identity not in ("", first_identity)
        apply(cluster, availability_slo(namespace, "after-handover"))
        evaluated(cluster, namespace, "after-handover")

        # A leader killed outright cannot say so: the next one waits out the lease (15 s).
        third = replica("third")
        eventually(lambda: leading(third), lambda seen: seen == "0.0", "third standing by")
        killed_at = time.monotonic()
        second.process.kill()
        eventually(
            lambda: leading(third),
            lambda seen: seen == "1.0",
            "third to lead after second was killed",
            timeout=60,
        )
        takeover = time.monotonic() - killed_at
        apply(cluster, availability_slo(namespace, "after-takeover"))
        evaluated(cluster, namespace, "after-takeover")
        print(f"clean handover {clean_handover:.1f}s, takeover after SIGKILL {takeover:.1f}s")
        assert clean_handover < 10, f"a released lease should pass at once, took {clean_handover}"
        assert takeover > 11, f"third took the lease {takeover:.1f}s after a kill: too early"
