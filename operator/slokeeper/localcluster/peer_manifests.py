"""What a user of each peer would write to guard the simulated ``checkout`` service: an Argo Rollout
with an AnalysisTemplate, a Flagger Canary with a MetricTemplate, both judging the canary's own
error ratio in Prometheus — the query slokeeper's analysis asks, with the same limit.

Used by tests/integration/test_peers_smoke.py and bench/peers.py. The traffic simulator labels
every series with ``namespace`` and ``pod``; a canary's pods are told apart by name:
``checkout-<replicaset hash>-<suffix>`` for Argo's canary ReplicaSet, and, for Flagger, the target
Deployment's pods (``checkout-<hash>-<suffix>``) rather than ``checkout-primary-…``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APP = "checkout"
STABLE_IMAGE = "shop/checkout:1.1"
# A burn rate of 2 on a 99.9 % SLO: slokeeper's rollback bench (maxBurnRate 2) in error-ratio terms.
MAX_ERROR_RATIO = 0.002


def error_ratio(namespace: str, pods: str, window: str) -> str:
    """The share of 5xx among the requests of the pods whose names match ``pods``."""
    selector = f'namespace="{namespace}",pod=~"{pods}"'
    return (
        f'sum(rate(http_requests_total{{{selector},code=~"5.."}}[{window}])) / '
        f"sum(rate(http_requests_total{{{selector}}}[{window}]))"
    )


def _pod_template(image: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": APP}},
        "spec": {"containers": [{"name": APP, "image": image}]},
    }


@dataclass(frozen=True)
class ArgoSettings:
    """An AnalysisTemplate's metric. Argo fails a metric when failed measurements > failureLimit,
    so failureLimit 0 rolls back on the first failed measurement (slokeeper's failureLimit 1).
    ``interval`` None is Argo's default: one measurement, then the run ends."""

    interval: str | None = "10s"
    failure_limit: int = 0
    window: str = "30s"


def argo_rollouts(namespace: str, prometheus_url: str, settings: ArgoSettings) -> list[Any]:
    """An AnalysisTemplate and a 4-pod Rollout whose first canary step is 25 % (1 pod of 4, by
    replica share: no traffic router), analysed in the background from that step on."""
    canary_pods = f"{APP}-{{{{args.canary-hash}}}}-.*"
    metric: dict[str, Any] = {
        "name": "error-ratio",
        "failureLimit": settings.failure_limit,
        "successCondition": f"result[0] <= {MAX_ERROR_RATIO}",
        "provider": {
            "prometheus": {
                "address": prometheus_url,
                "query": error_ratio(namespace, canary_pods, settings.window),
            }
        },
    }
    if settings.interval:
        metric["interval"] = settings.interval
    template = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "error-ratio", "namespace": namespace},
        "spec": {"args": [{"name": "canary-hash"}], "metrics": [metric]},
    }
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": APP, "namespace": namespace},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": APP}},
            "template": _pod_template(STABLE_IMAGE),
            "strategy": {
                "canary": {
                    "steps": [
                        {"setWeight": 25},
                        {"pause": {"duration": "10m"}},
                        {"setWeight": 50},
                        {"pause": {"duration": "10m"}},
                    ],
                    "analysis": {
                        "templates": [{"templateName": "error-ratio"}],
                        "startingStep": 1,
                        "args": [
                            {
                                "name": "canary-hash",
                                "valueFrom": {"podTemplateHashValue": "Latest"},
                            }
                        ],
                    },
                }
            },
        },
    }
    return [template, rollout]


@dataclass(frozen=True)
class FlaggerSettings:
    """A Canary's analysis. Flagger rolls back when failed checks reach ``threshold``, so
    threshold 1 is slokeeper's failureLimit 1. None leaves a field to Flagger's default (interval
    60s, threshold 1, a metric's interval 1m), though its CRD requires interval and threshold."""

    interval: str | None = "10s"
    threshold: int | None = 1
    metric_interval: str | None = "30s"
    iterations: int = 10


def flagger_canary(namespace: str, prometheus_url: str, settings: FlaggerSettings) -> list[Any]:
    """A 4-pod Deployment, a MetricTemplate and a blue/green Canary (Kubernetes provider)."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP, "namespace": namespace},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": APP}},
            "template": _pod_template(STABLE_IMAGE),
        },
    }
    template = {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "MetricTemplate",
        "metadata": {"name": "error-ratio", "namespace": namespace},
        "spec": {
            "provider": {"type": "prometheus", "address": prometheus_url},
            # the target Deployment's pods, not checkout-primary-<hash>-<suffix>
            "query": error_ratio("{{ namespace }}", "{{ target }}-[^-]+-[^-]+", "{{ interval }}"),
        },
    }
    metric: dict[str, Any] = {
        "name": "error-ratio",
        "templateRef": {"name": "error-ratio"},
        "thresholdRange": {"max": MAX_ERROR_RATIO},
    }
    if settings.metric_interval:
        metric["interval"] = settings.metric_interval
    analysis: dict[str, Any] = {"iterations": settings.iterations, "metrics": [metric]}
    if settings.interval:
        analysis["interval"] = settings.interval
    if settings.threshold is not None:
        analysis["threshold"] = settings.threshold
    canary = {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": APP, "namespace": namespace},
        "spec": {
            "provider": "kubernetes",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
            "service": {"port": 80},
            "analysis": analysis,
        },
    }
    return [deployment, template, canary]
