"""Benchmark: the rollout loop at scale (issue 21).

N guarded Deployments, each with a ChangeRollout, on KWOK; then a batch of template changes
shipped at once. Prints, for the changed Deployments, the time from the template change to the
first canary and to the first analysis verdict (p50/p99), the operator's RSS at rest and during the
changes, and the API requests per second the operator makes at rest and during the changes.

What it does: starts a kwokctl cluster whose API server writes an audit log of the operator's
requests only (the operator runs under a ServiceAccount token of its own, bound to cluster-admin,
so its user names its requests), Prometheus (5 s scrape) and the traffic simulator (10 requests/s
per pod, for the pods of the Deployments that will change and their canaries only), applies N
Deployments (``svc-0000`` …, one replica of ``shop/checkout:1.1``), one availability SLO (99.9 %)
and N ChangeRollouts (first step 5 % held for 30 min, analysis every 10 s over the last 30 s, burn
rate at most 2, a verdict from 50 canary requests), runs ``slokeeper run`` as its own process,
waits until every ChangeRollout has adopted its target (phase Idle with a stable revision),
measures two minutes at rest, then patches the image of K Deployments spread over the set (one
PATCH each, back to back) and polls every 0.25 s until each has its first verdict. Figures
recorded in bench/README.md.

Run: .venv/bin/python bench/rollout_scale.py [--deployments 500] [--changes 50]
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client

from slokeeper.cli.crds import install_crds
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.prometheus import ScrapeJob
from slokeeper.localcluster.stack import LocalStack
from slokeeper.localcluster.toolchain import ensure_toolchain
from slokeeper.simulator.server import TrafficSimulator

NAMESPACE = "bench"
OPERATOR_NAMESPACE = "slokeeper-system"
SERVICE_ACCOUNT = "slokeeper"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{SERVICE_ACCOUNT}"
AUDIT_POLICY = f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["{OPERATOR_USER}"]
  - level: None
"""
STABLE_IMAGE, NEW_IMAGE = "shop/checkout:1.1", "shop/checkout:1.2"
CHANGED_LABEL = "rollout-scale/changed"  # on the ChangeRollouts and pods of the changed ones
CANARY_SELECTOR = "slokeeper.dev/track=canary"
PODS_PER_NODE = 100  # kwok's nodes take 110
REST_SECONDS = 60.0
POLL_SECONDS = 0.25
VERDICTS = ("Pass", "Fail")
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 2.0) -> T:
    """Poll ``check`` until it returns something truthy; on timeout say what was last seen
    (``check`` prints its own progress)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = check()
        if seen:
            return seen
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def name_of(index: int) -> str:
    return f"svc-{index:04d}"


def deployment(index: int, changed: bool, replicas: int) -> dict[str, Any]:
    """One replica of the healthy image; the changed ones' pods carry the label the simulator
    follows (their canaries copy it), so only they get traffic."""
    labels = {"app": name_of(index)}
    pod_labels = {**labels, CHANGED_LABEL: "yes"} if changed else labels
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name_of(index), "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {"containers": [{"name": "app", "image": STABLE_IMAGE}]},
            },
        },
    }


def availability_slo() -> dict[str, Any]:
    selector = f'namespace="{NAMESPACE}"'
    window = "[{{.window}}]"
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "availability", "namespace": NAMESPACE},
        "spec": {
            "service": "shop",
            "target": 99.9,
            "window": {"rolling": "28d"},
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{{selector},code=~"5.."}}{window}))',
                    "total": f"sum(rate(http_requests_total{{{selector}}}{window}))",
                }
            },
        },
    }


def change_rollout(index: int, changed: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name_of(index), "namespace": NAMESPACE}
    if changed:
        metadata["labels"] = {CHANGED_LABEL: "yes"}
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ChangeRollout",
        "metadata": metadata,
        "spec": {
            "targetRef": {"name": name_of(index)},
            # The first step outlasts the benchmark: each change stays on its first canary.
            "steps": [{"weight": 5, "pause": "30m"}, {"weight": 50, "pause": "30m"}],
            "analysis": {
                "interval": "10s",
                "window": "30s",
                "slos": [{"name": "availability", "maxBurnRate": 2}],
                "minRequestCount": 50,
                "failureLimit": 2,
            },
        },
    }


def changed_indexes(count: int, changes: int) -> list[int]:
    """``changes`` indexes spread evenly over the set (the scheduler ticks keys in order)."""
    return sorted({index * count // changes for index in range(changes)})


def operator_kubeconfig(cluster: LocalCluster, path: Path) -> Path:
    """A kubeconfig with a token of the operator's own ServiceAccount (bound to cluster-admin):
    the audit policy logs that user's requests, and only them."""
    cluster.kubectl("create", "namespace", OPERATOR_NAMESPACE)
    cluster.kubectl("create", "serviceaccount", SERVICE_ACCOUNT, "-n", OPERATOR_NAMESPACE)
    cluster.kubectl(
        "create", "clusterrolebinding", "slokeeper-bench",
        "--clusterrole=cluster-admin", f"--serviceaccount={OPERATOR_NAMESPACE}:{SERVICE_ACCOUNT}",
    )  # fmt: skip
    token = cluster.kubectl(
        "create", "token", SERVICE_ACCOUNT, "-n", OPERATOR_NAMESPACE, "--duration", "4h"
    ).stdout.strip()
    admin: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    server = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [server],
        "users": [{"name": OPERATOR_USER, "user": {"token": token}}],
        "contexts": [
            {"name": "operator", "context": {"cluster": server["name"], "user": OPERATOR_USER}}
        ],
        "current-context": "operator",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class Objects:
    """Lists as plain dicts (no model deserialisation: 500 objects a poll stay cheap)."""

    api: client.ApiClient

    def items(self, group: str, plural: str, selector: str = "") -> list[dict[str, Any]]:
        listed: Any = client.CustomObjectsApi(self.api).list_namespaced_custom_object(
            group, "v1" if group == "apps" else "v1alpha1", NAMESPACE, plural,
            label_selector=selector,
        )  # fmt: skip
        items: list[dict[str, Any]] = listed["items"]
        return items


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True)
class Request:
    received: float  # epoch seconds
    verb: str
    resource: str


def audited_requests(audit_log: Path) -> list[Request]:
    """Every request the operator's user made, once each (a watch is logged when its response
    starts and again when it ends), by the time the API server received it."""
    seen: dict[str, Request] = {}
    for line in audit_log.read_text(errors="replace").splitlines():
        event = json.loads(line)
        if event["user"]["username"] != OPERATOR_USER or event["auditID"] in seen:
            continue
        ref = event.get("objectRef", {})
        resource = ref.get("resource", event.get("requestURI", "?").split("?")[0])
        if ref.get("subresource"):
            resource += f"/{ref['subresource']}"
        received = datetime.fromisoformat(event["requestReceivedTimestamp"]).timestamp()
        seen[event["auditID"]] = Request(received, event["verb"], resource)
    return list(seen.values())


def request_rate(audit_log: Path, began: float, ended: float) -> tuple[float, str]:
    """Requests per second the operator made in [began, ended), and the commonest kinds."""
    within = [r for r in audited_requests(audit_log) if began <= r.received < ended]
    kinds = Counter(f"{r.verb} {r.resource}" for r in within)
    top = ", ".join(f"{kind} {n / (ended - began):.2f}/s" for kind, n in kinds.most_common(6))
    return len(within) / (ended - began), top


@dataclass
class Timeline:
    """One changed Deployment, in epoch seconds; None until seen."""

    patched: float
    progressing: float | None = None  # the ChangeRollout's phase Progressing, for this template
    canary: float | None = None  # the canary Deployment exists
    canary_ready: float | None = None  # its pod is Ready
    first_analysis: float | None = None  # the first analysis record's time, any outcome
    first_verdict: float | None = None  # the first Pass or Fail record's time
    outcomes: list[str] = field(default_factory=list)


def observe(timelines: dict[str, Timeline], objects: Objects, now: float) -> None:
    """One poll of the changed ChangeRollouts and the canary Deployments."""
    for rollout in objects.items("slokeeper.dev", "changerollouts", f"{CHANGED_LABEL}=yes"):
        seen = timelines.get(rollout["metadata"]["name"])
        status = rollout.get("status") or {}
        current = status.get("current") or {}
        if seen is None or NEW_IMAGE not in current.get("revision", {}).get("images", []):
            continue
        if seen.progressing is None and status.get("phase") == "Progressing":
            seen.progressing = now
        analyses = current.get("analyses", [])
        seen.outcomes = [a["outcome"] for a in analyses]
        if analyses and seen.first_analysis is None:
            seen.first_analysis = datetime.fromisoformat(analyses[0]["time"]).timestamp()
        verdict = next((a for a in analyses if a["outcome"] in VERDICTS), None)
        if verdict and seen.first_verdict is None:
            seen.first_verdict = datetime.fromisoformat(verdict["time"]).timestamp()
    for canary in objects.items("apps", "deployments", CANARY_SELECTOR):
        seen = timelines.get(canary["metadata"]["name"].removesuffix("-canary"))
        if seen is None:
            continue
        seen.canary = seen.canary or now
        if (canary.get("status") or {}).get("readyReplicas", 0) >= 1:
            seen.canary_ready = seen.canary_ready or now


def p50_p99(values: list[float]) -> str:
    """Median and the nearest-rank 99th percentile (the maximum below 100 samples)."""
    if not values:
        return "no samples"
    ordered = sorted(values)
    p99 = ordered[math.ceil(0.99 * len(ordered)) - 1]
    return f"p50 {statistics.median(ordered):6.1f}s  p99 {p99:6.1f}s  (max {ordered[-1]:.1f}s)"


@contextmanager
def stack(workdir: Path, nodes: int) -> Iterator[tuple[LocalCluster, LocalStack]]:
    """The cluster (with the audit log) and, on it, Prometheus and the rule sync."""
    cluster = LocalCluster(
        ensure_toolchain(), workdir / "cluster", nodes=nodes, audit_policy=AUDIT_POLICY
    )
    with (
        cluster,
        LocalStack(workdir / "stack", scrape_interval="5s", kubeconfig=cluster.kubeconfig) as rest,
    ):
        yield cluster, rest


def apply_all(cluster: LocalCluster, workdir: Path, name: str, documents: list[Any]) -> float:
    began = time.monotonic()
    manifests = workdir / f"{name}.yaml"
    manifests.write_text(yaml.safe_dump_all(documents))
    cluster.kubectl("apply", "--server-side", "-f", str(manifests), timeout=900)
    return time.monotonic() - began


def deployments_ready(objects: Objects, count: int, replicas: int) -> bool:
    items = objects.items("apps", "deployments")
    ready = sum(1 for d in items if (d.get("status") or {}).get("readyReplicas", 0) >= replicas)
    print(f"  {ready}/{count} Deployments Ready", flush=True)
    return ready >= count


def all_adopted(objects: Objects, count: int) -> bool:
    items = objects.items("slokeeper.dev", "changerollouts")
    phases = Counter((i.get("status") or {}).get("phase", "none") for i in items)
    adopted = sum(
        1
        for i in items
        if (i.get("status") or {}).get("phase") == "Idle" and (i["status"].get("stable"))
    )
    print(f"  {adopted}/{count} ChangeRollouts adopted; phases {dict(phases)}", flush=True)
    return adopted >= count


@dataclass
class Measured:
    """What a run measured, to print."""

    count: int
    changes: int
    adopted_seconds: float = 0.0
    rest_first_rate: float = 0.0  # the first minute after adoption
    rest_rate: float = 0.0  # the second
    rest_kinds: str = ""
    rest_rss: list[float] = field(default_factory=list)
    change_rate: float = 0.0
    change_kinds: str = ""
    change_seconds: float = 0.0
    change_rss: list[float] = field(default_factory=list)
    patch_span: float = 0.0
    timelines: dict[str, Timeline] = field(default_factory=dict)
    peak_rss: float = 0.0


def at_rest(operator_pid: int, audit_log: Path, measured: Measured) -> None:
    """Two minutes with nothing to do, right after adoption: the operator's request rate in
    each (the first still carries adoption's wake-ups) and its RSS once a second."""
    began = time.time()
    while time.time() < began + 2 * REST_SECONDS:
        measured.rest_rss.append(rss_mib(operator_pid))
        time.sleep(1.0)
    middle = began + REST_SECONDS
    measured.rest_first_rate, _ = request_rate(audit_log, began, middle)
    measured.rest_rate, measured.rest_kinds = request_rate(audit_log, middle, time.time())


def ship(apps: client.AppsV1Api, names: list[str]) -> dict[str, Timeline]:
    """Change the image of every named Deployment, one PATCH each, back to back."""
    body = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": NEW_IMAGE}]}}}}
    timelines = {}
    for name in names:
        apps.patch_namespaced_deployment(name, NAMESPACE, body)
        timelines[name] = Timeline(patched=time.time())
    return timelines


def follow_changes(
    objects: Objects, operator_pid: int, timelines: dict[str, Timeline], measured: Measured
) -> None:
    """Poll until every change has its first verdict (or the deadline, saying what was seen)."""
    deadline = time.monotonic() + 300 + 6 * len(timelines)
    while time.monotonic() < deadline:
        observe(timelines, objects, time.time())
        measured.change_rss.append(rss_mib(operator_pid))
        if all(t.first_verdict is not None for t in timelines.values()):
            return
        time.sleep(POLL_SECONDS)
    waiting = {n: t for n, t in timelines.items() if t.first_verdict is None}
    print(f"timed out: {len(waiting)} of {len(timelines)} changes without a verdict:")
    for name, seen in sorted(waiting.items()):
        print(f"  {name}: {seen}")


def run(count: int, changes: int, replicas: int, keep_log: Path | None) -> Measured:
    measured = Measured(count, changes)
    picked = set(changed_indexes(count, changes))
    nodes = max(2, math.ceil((count * replicas + 2 * changes) / PODS_PER_NODE))
    with tempfile.TemporaryDirectory() as directory, stack(Path(directory), nodes) as (cluster, s):
        workdir = Path(directory)
        if s.prometheus is None:
            raise SystemExit("Prometheus did not start")
        install_crds(cluster)
        kubeconfig = operator_kubeconfig(cluster, workdir / "operator.kubeconfig")
        cluster.kubectl("create", "namespace", NAMESPACE)
        api = api_client(str(cluster.kubeconfig))
        objects = Objects(api)
        documents = [deployment(i, i in picked, replicas) for i in range(count)]
        took = apply_all(cluster, workdir, "deployments", [availability_slo(), *documents])
        print(f"applied {count} Deployments on {nodes} kwok nodes in {took:.0f}s", flush=True)
        wait_for("the Deployments", lambda: deployments_ready(objects, count, replicas), 900, 5)
        rollouts = [change_rollout(i, i in picked) for i in range(count)]
        took = apply_all(cluster, workdir, "rollouts", rollouts)
        print(f"applied {count} ChangeRollouts in {took:.0f}s", flush=True)
        selector = f"{CHANGED_LABEL}=yes"
        with (
            TrafficSimulator(api, (NAMESPACE,), selector) as simulator,
            operator_process(
                kubeconfig, s.prometheus.url, workdir / "operator.log", interval="30s"
            ) as operator,
        ):
            s.prometheus.add_job(ScrapeJob("simulator", (simulator.address,)))
            began = time.monotonic()
            wait_for("adoption", lambda: all_adopted(objects, count), 600 + 2 * count, 5)
            measured.adopted_seconds = time.monotonic() - began
            print(f"all adopted {measured.adopted_seconds:.0f}s after the operator started")
            at_rest(operator.pid, cluster.audit_log, measured)
            print(f"at rest: {measured.rest_rate:.2f} requests/s (second minute)", flush=True)
            names = [name_of(i) for i in sorted(picked)]
            started = time.time()
            measured.timelines = ship(client.AppsV1Api(api), names)
            measured.patch_span = time.time() - started
            follow_changes(objects, operator.pid, measured.timelines, measured)
            ended = time.time()
            measured.change_seconds = ended - started
            rate = request_rate(cluster.audit_log, started, ended)
            measured.change_rate, measured.change_kinds = rate
            measured.peak_rss = rss_mib(operator.pid, "VmHWM")
            if operator.poll() is not None:
                print(f"the operator exited ({operator.returncode}); see its log")
        if keep_log is not None:
            keep_log.write_bytes((workdir / "operator.log").read_bytes())
    return measured


def report(m: Measured) -> None:
    timelines = list(m.timelines.values())

    def since_patch(pick: Callable[[Timeline], float | None]) -> list[float]:
        return [value - t.patched for t in timelines if (value := pick(t)) is not None]

    outcomes = Counter(t.outcomes[0] for t in timelines if t.outcomes)
    print(f"\n== {m.count} guarded Deployments, {m.changes} changes at once ==")
    print(f"every ChangeRollout adopted (Idle): {m.adopted_seconds:.0f}s after operator start")
    print(
        f"at rest: {m.rest_first_rate:.2f} API requests/s by the operator in the first minute "
        f"after adoption, {m.rest_rate:.2f}/s in the second"
    )
    print(f"  commonest: {m.rest_kinds}")
    print(
        f"  operator RSS at rest: {statistics.median(m.rest_rss):.0f} MiB median, "
        f"{max(m.rest_rss):.0f} MiB max"
    )
    print(f"{len(timelines)} images patched in {m.patch_span:.2f}s; from each patch:")
    rows = (
        ("ChangeRollout phase Progressing", lambda t: t.progressing),
        ("canary Deployment created", lambda t: t.canary),
        ("canary pod Ready", lambda t: t.canary_ready),
        ("first analysis (any outcome)", lambda t: t.first_analysis),
        ("first verdict (Pass/Fail)", lambda t: t.first_verdict),
    )
    for label, pick in rows:
        values = since_patch(pick)
        print(f"  {label:32} {p50_p99(values)}  [{len(values)}/{len(timelines)}]")
    print(f"  first analysis outcomes: {dict(outcomes)}")
    print(
        f"during the changes ({m.change_seconds:.0f}s, patch to last verdict): "
        f"{m.change_rate:.2f} API requests/s by the operator"
    )
    print(f"  commonest: {m.change_kinds}")
    print(
        f"  operator RSS during the changes: {max(m.change_rss, default=float('nan')):.0f} MiB "
        f"max; peak RSS of the process (VmHWM) {m.peak_rss:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--deployments", type=int, default=500, help="guarded Deployments")
    parser.add_argument("--changes", type=int, default=50, help="template changes at once")
    parser.add_argument("--replicas", type=int, default=1, help="replicas per Deployment")
    parser.add_argument("--operator-log", type=Path, help="keep the operator's log here")
    arguments = parser.parse_args()
    if not 0 < arguments.changes <= arguments.deployments:
        parser.error("--changes must be between 1 and --deployments")
    began = time.monotonic()
    measured = run(
        arguments.deployments, arguments.changes, arguments.replicas, arguments.operator_log
    )
    report(measured)
    print(f"benchmark wall time {time.monotonic() - began:.0f}s")


if __name__ == "__main__":
    # A timeout's SIGTERM unwinds the context managers, so the cluster and Prometheus stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
