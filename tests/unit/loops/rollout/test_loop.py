"""One rollout tick, against fake ports: what it reads, the order in which it records and acts,
and when it asks for the next analysis."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from slokeeper.api.references import ObjectRef
from slokeeper.kube.canary import template_hash
from slokeeper.kube.rollout_commands import AnnotationRequests
from slokeeper.loops.rollout.loop import RolloutLoop
from slokeeper.prometheus.canary_analysis import PrometheusCanaryEvidence
from slokeeper.prometheus.client import Sample
from slokeeper.rollout.states import Action, Phase
from slokeeper.rollout.workload import CanaryView, TargetView

STABLE = {"spec": {"containers": [{"name": "checkout", "image": "shop/checkout:1.1"}]}}
CANDIDATE = {"spec": {"containers": [{"name": "checkout", "image": "shop/checkout:1.2"}]}}
SLO = {
    "apiVersion": "slokeeper.dev/v1alpha1",
    "kind": "ServiceLevelObjective",
    "metadata": {"name": "availability", "namespace": "shop"},
    "spec": {
        "service": "checkout",
        "target": 99.9,
        "indicator": {
            "ratio": {"errors": "sum(rate(e[{{.window}}]))", "total": "sum(rate(t[{{.window}}]))"}
        },
    },
}


class Cluster:
    """The ChangeRollout, its target and canary, and a journal of every write in order."""

    def __init__(self) -> None:
        self.journal: list[str] = []
        self.policy: dict[str, Any] | None = None
        self.template: dict[str, Any] = STABLE
        self.canary_ready = 0
        self.body: dict[str, Any] = {
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "u1", "generation": 1,
                         "resourceVersion": "1", "annotations": {}},
            "spec": {
                "targetRef": {"name": "checkout"},
                "steps": [{"weight": 25, "pause": "1m"}],
                "analysis": {"interval": "4s", "slos": [{"name": "availability"}]},
            },
        }  # fmt: skip

    # RolloutObjects
    def read(self, namespace: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.body)

    def read_slo(self, namespace: str, name: str) -> dict[str, Any]:
        return SLO

    def read_policy(self, namespace: str) -> dict[str, Any] | None:
        return self.policy

    def write_status(self, namespace: str, name: str, status: dict[str, Any], rv: str) -> str:
        self.journal.append(f"status:{status['phase']}")
        self.body["status"] = copy.deepcopy(status)
        return rv

    def remove_annotations(self, namespace: str, name: str, keys: list[str], rv: str) -> None:
        for key in keys:
            self.journal.append(f"remove:{key}")
            del self.body["metadata"]["annotations"][key]

    # Workload
    def read_target(self, namespace: str, name: str) -> TargetView:
        body = {
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "t1"},
            "spec": {"replicas": 3, "template": self.template},
        }
        return TargetView(body, template_hash(self.template), 3, True, False)

    def read_canary(self, namespace: str, target: str) -> CanaryView:
        if not self.canary_ready:
            return CanaryView(False)
        return CanaryView(
            True,
            owner_uid="u1",
            template_hash=template_hash(CANDIDATE),
            replicas=1,
            ready_replicas=self.canary_ready,
            pod_template_hash="5d8f",
        )

    def apply(self, owner: ObjectRef, target: TargetView, actions: tuple[Action, ...]) -> None:
        self.journal.extend(f"act:{type(a).__name__}" for a in actions)

    def record(self, owner: ObjectRef, reason: str, message: str, warning: bool = False) -> None:
        self.journal.append(f"event:{reason}")

    def mark(self, target: TargetView, guard: tuple[str, str] | None) -> None:
        self.marked = guard[1] if guard else None


class SilentPrometheus:
    """Answers every query with nothing: the canary's traffic has not been scraped yet."""

    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        return []


def _running(cluster: Cluster) -> tuple[RolloutLoop, list[datetime]]:
    clock = [datetime(2026, 11, 25, 12, tzinfo=UTC)]
    loop = RolloutLoop(
        cluster,
        cluster,
        PrometheusCanaryEvidence(SilentPrometheus()),
        AnnotationRequests(),
        clock=lambda: clock[0],
    )
    loop.tick("shop", "checkout")  # adopt
    cluster.template = CANDIDATE
    loop.tick("shop", "checkout")  # start the canary
    cluster.canary_ready = 1
    return loop, clock


def test_status_is_written_before_acting_and_requests_are_removed_after_recording() -> None:
    cluster = Cluster()
    loop, _ = _running(cluster)
    cluster.journal.clear()
    cluster.body["metadata"]["annotations"]["slokeeper.dev/abort"] = '{"by": "alice"}'
    assert loop.tick("shop", "checkout").phase is Phase.ROLLED_BACK
    assert cluster.journal[:3] == [
        "status:RolledBack",
        "remove:slokeeper.dev/abort",
        "event:AbortRequested",
    ]
    assert cluster.journal.index("act:DeleteCanary") > 0
    decisions = cluster.body["status"]["history"][0]["decisions"]
    assert any(d["message"] == "abort by alice" for d in decisions)


def test_no_traffic_yet_is_asked_again_soon_and_an_early_wake_does_not_delay_it() -> None:
    cluster = Cluster()
    loop, clock = _running(cluster)
    first = loop.tick("shop", "checkout")
    assert first.analysed is not None
    assert first.analysed.value == "NotEnoughTraffic"
    assert first.delay_seconds == 1.0  # a quarter of the 4 s interval
    clock[0] += timedelta(seconds=0.4)  # woken by a watch event
    early = loop.tick("shop", "checkout")
    assert early.analysed is None
    assert early.delay_seconds == 0.6, "the next analysis stays due 1 s after the last"
    clock[0] += timedelta(seconds=0.6)
    assert loop.tick("shop", "checkout").analysed is not None


def test_no_analysis_until_the_steps_canary_pods_are_ready() -> None:
    cluster = Cluster()
    loop, _ = _running(cluster)
    cluster.canary_ready = 0
    assert loop.tick("shop", "checkout").analysed is None


def test_the_namespaces_change_policy_holds_a_change_the_rollout_calls_low_risk() -> None:
    """The risk floor and the approvals live in the ChangePolicy, which the author of the change
    cannot edit: `risk: Low` in the ChangeRollout does not skip the approval."""
    cluster = Cluster()
    cluster.body["spec"]["risk"] = "Low"
    cluster.policy = {"spec": {"minimumRisk": "High", "approval": {"requiredFor": ["High"]}}}
    loop = RolloutLoop(
        cluster,
        cluster,
        PrometheusCanaryEvidence(SilentPrometheus()),
        AnnotationRequests(),
        clock=lambda: datetime(2026, 11, 25, 12, tzinfo=UTC),
    )
    loop.tick("shop", "checkout")  # adopt
    cluster.template = CANDIDATE
    assert loop.tick("shop", "checkout").phase is Phase.AWAITING_APPROVAL
    assert cluster.body["status"]["message"] == "risk High needs an approval."
    cluster.policy = {"spec": {"minimumRisk": "Extreme"}}
    assert loop.tick("shop", "checkout").phase is None, "an unreadable policy holds the change"
    assert "event:InvalidChangePolicy" in cluster.journal
