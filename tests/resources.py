"""The slokeeper resources tests apply: SLOs on the simulated checkout service, ChangeRollouts
guarding it, and reading their status back."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from polling import eventually
from slokeeper.api.base import GROUP, VERSION
from slokeeper.localcluster.cluster import LocalCluster
from workloads import deploy_ready


def slo_resource(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def availability_slo(
    namespace: str,
    name: str = "checkout-availability",
    target: float = 99.9,
    errors: str | None = None,
) -> dict[str, Any]:
    """A ratio SLO on the checkout pods of ``namespace``; its budget policy freezes changes once
    the budget is spent."""
    selector = f'namespace="{namespace}"'
    return slo_resource(
        namespace,
        name,
        {
            "service": "checkout",
            "target": target,
            "window": {"rolling": "28d"},
            "indicator": {
                "ratio": {
                    "errors": errors
                    or f'sum(rate(http_requests_total{{{selector},code=~"5.."}}[{{{{.window}}}}]))',
                    "total": f"sum(rate(http_requests_total{{{selector}}}[{{{{.window}}}}]))",
                }
            },
            "alerting": {"runbookUrl": "https://runbooks.example.com/checkout"},
            "budgetPolicy": {"thresholds": [{"belowPercent": 0, "action": "freeze"}]},
        },
    )


def latency_slo(namespace: str, name: str = "checkout-latency") -> dict[str, Any]:
    """99 % of checkout requests within 300 ms: a healthy version burns it at about 0.8x, a
    5x slower one at about 40x."""
    return slo_resource(
        namespace,
        name,
        {
            "service": "checkout",
            "target": 99.0,
            "indicator": {
                "latency": {
                    "metric": "http_request_duration_seconds",
                    "selector": f'namespace="{namespace}"',
                    "threshold": 0.3,
                }
            },
        },
    )


def change_rollout(namespace: str, **spec: Any) -> dict[str, Any]:
    """A ChangeRollout guarding the checkout Deployment: quick steps for tests (10 s pauses,
    analyses every 3 s over the last 20 s) unless ``spec`` says otherwise."""
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ChangeRollout",
        "metadata": {"name": "checkout", "namespace": namespace},
        "spec": {
            "targetRef": {"name": "checkout"},
            "steps": [{"weight": w, "pause": "10s"} for w in (5, 25, 50)],
            "analysis": {
                "interval": "3s",
                "window": "20s",
                "slos": [{"name": "checkout-availability", "maxBurnRate": 2}],
                "minRequestCount": 50,
                "failureLimit": 1,
            },
            **spec,
        },
    }


def apply(cluster: LocalCluster, *resources: dict[str, Any]) -> None:
    for resource in resources:
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(resource))


# The kinds tests poll most, read through one client per cluster: a kubectl process per poll
# cost 0.07 CPU-s, and polls every 0.25 s took 280 CPU-s of a two-core CI run. Each reader
# returns the response unread, its body the JSON kubectl would print.
_Reader = Callable[[client.ApiClient, str, str], Any]


def _custom(plural: str) -> _Reader:
    return lambda api, namespace, name: client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name, _preload_content=False
    )


_READERS: dict[str, _Reader] = {
    "slo": _custom("servicelevelobjectives"),
    "crollout": _custom("changerollouts"),
    "changepolicy": _custom("changepolicies"),
    "deployment": lambda api, namespace, name: client.AppsV1Api(api).read_namespaced_deployment(
        name, namespace, _preload_content=False
    ),
    "configmap": lambda api, namespace, name: client.CoreV1Api(api).read_namespaced_config_map(
        name, namespace, _preload_content=False
    ),
}


@functools.cache
def _client(kubeconfig: Path, written_ns: int) -> client.ApiClient:
    """A client for the cluster behind ``kubeconfig`` as written then (a cluster started again
    in the same directory writes it anew)."""
    return config.new_client_from_config(config_file=str(kubeconfig))


def get(cluster: LocalCluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    """The object as the API server serves it; {} while it does not exist."""
    reader = _READERS.get(kind)
    if reader is not None:
        kubeconfig = Path(cluster.kubeconfig)
        try:
            response = reader(_client(kubeconfig, kubeconfig.stat().st_mtime_ns), namespace, name)
        except (ApiException, urllib3.exceptions.HTTPError):
            return {}  # as kubectl fails: missing, or the API server not answering
        served: dict[str, Any] = json.loads(response.data)
        return served
    found = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    if found.returncode != 0:
        return {}
    body: dict[str, Any] = json.loads(found.stdout)
    return body


def read_status(cluster: LocalCluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = get(cluster, kind, namespace, name).get("status", {})
    return found


def event_reasons(cluster: LocalCluster, namespace: str, name: str) -> list[str]:
    """The reasons of the Events posted about one object, oldest first."""
    listed = cluster.kubectl(
        "get", "events", "-n", namespace,
        "--field-selector", f"involvedObject.name={name}",
        "-o", "jsonpath={.items[*].reason}",
    )  # fmt: skip
    return listed.stdout.split()


def ready_condition(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})


def rollout_status(cluster: LocalCluster, namespace: str) -> dict[str, Any]:
    """The status of the checkout ChangeRollout."""
    return read_status(cluster, "crollout", namespace, "checkout")


def held_past_its_pause(status: dict[str, Any], pause_seconds: float) -> bool:
    """An analysis ran after the current step's pause was over, and the change is still there."""
    current = status.get("current") or {}
    if not current.get("analyses") or not current.get("stepStartedAt"):
        return False
    over = datetime.fromisoformat(current["stepStartedAt"]) + timedelta(seconds=pause_seconds)
    return datetime.fromisoformat(current["analyses"][-1]["time"]) > over


def adopt_checkout(
    cluster: LocalCluster, api: client.ApiClient, namespace: str, *docs: dict[str, Any]
) -> None:
    """Deploy 4 Ready pods of checkout 1.1, apply ``docs`` and wait until the ChangeRollout has
    adopted the Deployment."""
    deploy_ready(cluster, client.AppsV1Api(api), namespace, 4, "shop/checkout:1.1")
    apply(cluster, *docs)
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: "stable" in s,
        "the ChangeRollout to adopt its target",
    )


def ask(cluster: LocalCluster, namespace: str, request: str, **value: Any) -> None:
    """What `slokeeper rollout <request>` does: annotate the ChangeRollout; an approval or an
    override names the template of the change under way, as the CLI's do."""
    if request in ("approve", "override") and "revision" not in value:
        current = rollout_status(cluster, namespace).get("current") or {}
        value["revision"] = current.get("revision", {}).get("templateHash")
    cluster.kubectl(
        "annotate", "crollout", "checkout", "-n", namespace, "--overwrite",
        f"slokeeper.dev/{request}={json.dumps(value)}",
    )  # fmt: skip


def phase_is(phase: str, changes: int | None = None) -> Any:
    def check(status: dict[str, Any]) -> bool:
        done = changes is None or len(status.get("history", [])) == changes
        return status.get("phase") == phase and done

    return check


def events(cluster: LocalCluster, namespace: str, kind: str) -> list[dict[str, Any]]:
    listed = cluster.kubectl(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.kind={kind}",
        "-o", "json",
    )  # fmt: skip
    found: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return found


def past_the_template_change_second(cluster: LocalCluster, namespace: str) -> None:
    """Poll until the clock has left the second in which checkout's pod template last changed:
    managedFields keep whole seconds, so a role approval given within that second is refused as
    possibly meant for the template before (slokeeper/loops/rollout/role_approvals.py)."""
    body = json.loads(
        cluster.kubectl(
            "get", "deployment", "checkout", "-n", namespace, "-o", "json", "--show-managed-fields"
        ).stdout
    )
    changed = max(
        datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
        for entry in body["metadata"]["managedFields"]
        if "f:template" in entry.get("fieldsV1", {}).get("f:spec", {})
    )
    eventually(
        lambda: datetime.now(UTC),
        lambda now: now >= changed + timedelta(seconds=1),
        f"the clock past the template change at {changed:%H:%M:%S}",
        timeout=5,
        interval=0.05,
    )
