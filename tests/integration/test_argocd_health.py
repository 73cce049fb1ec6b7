"""User story: a team deploys with Argo CD, which shows slokeeper's resources through the health
checks we ship (manifests/argocd). Fed the real objects the operator writes in each phase, they
say what an SRE expects: Healthy at rest, Suspended while a gate holds a change, Progressing
while a canary runs, Degraded after a rollback until the template changes, and Degraded for an
SLO whose PromQL is broken. The guarded Deployment itself says the same (not just "Suspended",
as Argo CD's built-in check calls any paused Deployment)."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from argocd_health import argocd_health
from polling import eventually
from resources import (
    adopt_checkout,
    apply,
    ask,
    availability_slo,
    change_rollout,
    get,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import set_image


def health_of(cluster: LocalCluster, kind: str, namespace: str, name: str) -> Any:
    def observe() -> tuple[str, str, str]:
        body = get(cluster, kind, namespace, name)
        status, message = argocd_health(body) if body else ("Missing", "")
        return status, message, body.get("status", {}).get("phase", "")

    return observe


def kubectl_rollout_status(cluster: LocalCluster, namespace: str) -> str:
    shown = cluster.kubectl(
        "rollout", "status", "deployment/checkout", "-n", namespace, "--watch=false"
    )
    return shown.stdout


def test_argo_cd_health_follows_real_objects_through_each_phase(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    broken = availability_slo(
        namespace, "broken", errors="sum(rate(http_requests_total[{{.window}}]"
    )
    apply(cluster, broken)
    degraded = eventually(
        health_of(cluster, "slo", namespace, "broken"),
        lambda seen: seen[0] == "Degraded",
        "the SLO with broken PromQL to be Degraded",
    )
    assert "parse error" in degraded[1]

    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace), change_rollout(namespace)
    )
    rollout = health_of(cluster, "crollout", namespace, "checkout")
    eventually(
        health_of(cluster, "slo", namespace, "checkout-availability"),
        lambda seen: seen[0] == "Healthy",
        "the SLO evaluated and Healthy",
    )
    assert eventually(rollout, lambda seen: seen[0] == "Healthy", "rollout at rest")
    deployment = health_of(cluster, "deployment", namespace, "checkout")
    held = eventually(deployment, lambda seen: seen[0] == "Healthy", "the held Deployment")
    assert held[1].startswith("held paused by slokeeper on its stable revision, 4/4 available")
    assert "successfully rolled out" in kubectl_rollout_status(cluster, namespace)

    ask(cluster, namespace, "paused", by="dave", reason="freeze for the demo")
    set_image(cluster, namespace, "1.3-bad")
    # Paused at rest is already Suspended; wait for the change itself to be held by the pause.
    suspended = eventually(rollout, lambda seen: seen[2] == "Paused", "a paused change")
    assert suspended[0] == "Suspended"
    eventually(deployment, lambda seen: seen[0] == "Suspended", "the Deployment of a held change")

    cluster.kubectl("annotate", "crollout", "checkout", "-n", namespace, "slokeeper.dev/paused-")
    progressing = eventually(rollout, lambda seen: seen[0] != "Suspended", "the change resumed")
    assert progressing[0] == "Progressing", progressing
    canary_running = deployment()
    assert canary_running[0] in ("Progressing", "Degraded"), canary_running  # it may fail fast
    rolled_back = eventually(
        rollout, lambda seen: seen[2] == "RolledBack", "1.3-bad rolled back", timeout=90
    )
    assert rolled_back[0] == "Degraded"
    assert rolled_back[1].startswith("AnalysisFailed"), rolled_back
    eventually(deployment, lambda seen: seen[0] == "Degraded", "the rolled-back Deployment")
    # kubectl does not look at `paused`: the refused template counts as a rollout not yet done.
    waiting = kubectl_rollout_status(cluster, namespace)
    assert "0 out of 4 new replicas have been updated" in waiting, waiting

    set_image(cluster, namespace, "1.1")  # the template changes back to stable
    eventually(rollout, lambda seen: seen[0] == "Healthy", "healthy again on stable")
    eventually(deployment, lambda seen: seen[0] == "Healthy", "the Deployment healthy again")
