"""``slokeeper demo``: the operator on the local control plane, a canary promoted and a bad one
rolled back.

Builds the control plane on first use (cached afterwards), starts it with Prometheus, applies the
CRDs and the sample SLOs, starts the traffic simulator and ``slokeeper run``, guards the checkout
Deployment with a ChangeRollout, then ships a good version (promoted step by step) and a failing
one (rolled back), showing each as it goes, and ends by writing each SLO's budget report. It
keeps everything up for exploring until Ctrl-C.

``--real-node`` (root needed) tells the story on real pods with real traffic instead: see
``demo_real_node.py``.

``--kubeconfig`` (or ``--cluster kind``) runs the same story on a real cluster: the checkout
Pods run the pause image with their version in env VERSION (shop/checkout images exist nowhere),
Prometheus, the simulator and the operator run on this machine, and what the demo created in the
cluster is deleted at the end (the CRDs stay).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from kubernetes import client

from slokeeper.api.base import GROUP, VERSION
from slokeeper.cli.crds import install_crds
from slokeeper.cli.demo_backfill import backfill_month
from slokeeper.cli.demo_real_node import run_real_node
from slokeeper.cli.demo_rollout import follow_rollout, read_rollout
from slokeeper.cli.report import ReportError, write_report
from slokeeper.cli.rules import load_objectives
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import ExistingCluster, LocalCluster
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.localcluster.stack import LocalStack
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.prometheus.client import PrometheusClient
from slokeeper.simulator.server import TrafficSimulator

LOCAL_CONTAINER: dict[str, Any] = {"name": "checkout", "image": "shop/checkout:1.1"}
# On a real cluster: a tiny image every node can pull; the simulator reads the version from env.
EXTERNAL_CONTAINER: dict[str, Any] = {
    "name": "checkout",
    "image": "registry.k8s.io/pause:3.10",
    "env": [{"name": "VERSION", "value": "1.1"}],
    "resources": {"requests": {"cpu": "1m", "memory": "8Mi"}},
}


def demo_deployment(container: dict[str, Any]) -> str:
    """The checkout Deployment the demo guards, 4 replicas of ``container``."""
    labels = {"app": "checkout"}
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "checkout", "namespace": "default", "labels": labels},
            "spec": {
                "replicas": 4,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
    )


KIND_CLUSTER = "slokeeper-demo"
# A budget point every four hours of a 28-day window: a 90-minute incident shows as the cliff it
# was (the report's default, 48, draws it as a slope over half a day).
REPORT_POINTS = 169


# Quick steps so the demo takes a minute or two; manifests/samples/changerollout.yaml shows
# production-like settings (minutes per step, change windows, a freeze).
DEMO_ROLLOUT: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "ChangeRollout",
    "metadata": {"name": "checkout", "namespace": "default"},
    "spec": {
        "targetRef": {"name": "checkout"},
        "steps": [{"weight": w, "pause": "15s"} for w in (5, 25, 50)],
        "analysis": {
            "interval": "5s",
            "window": "30s",
            "slos": [{"name": "checkout-availability", "maxBurnRate": 2}],
            "minRequestCount": 50,
            "failureLimit": 1,
        },
        "gates": {"sloBudgetPolicies": ["checkout-availability"]},
    },
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the operator locally: a canary promoted, a bad one rolled back",
    )
    parser.add_argument(
        "--samples",
        type=Path,
        default=Path("manifests/samples"),
        help="directory of sample SLOs to apply (default: manifests/samples)",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="run on this cluster instead of the embedded control plane",
    )
    parser.add_argument(
        "--cluster",
        choices=("local", "kind"),
        default="local",
        help="local: the embedded control plane (default); kind: create (or reuse) the kind "
        f"cluster {KIND_CLUSTER} (needs kind and Docker)",
    )
    parser.add_argument(
        "--real-node",
        action="store_true",
        help="real pods and real HTTP traffic on a real single-node cluster started here "
        "(needs root); without it the pods are KWOK's simulated ones",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("slokeeper-demo-report"),
        help="where the budget reports go (default: ./slokeeper-demo-report)",
    )
    parser.add_argument(
        "--exit-after-start",
        action="store_true",
        help="stop once the environment is up, before any rollout (a quick smoke test)",
    )
    parser.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop after the two rollouts instead of waiting for Ctrl-C",
    )
    parser.set_defaults(run=run)


def _rollout(custom: client.CustomObjectsApi) -> dict[str, Any]:
    return read_rollout(custom, "default", "checkout")


def _status(custom: client.CustomObjectsApi) -> dict[str, Any]:
    status: dict[str, Any] = _rollout(custom).get("status") or {}
    return status


def _ship(
    cluster: LocalCluster, custom: client.CustomObjectsApi, version: str, log: Path
) -> dict[str, Any]:
    """Change the pod template, as a GitOps commit would, and show the rollout until it ends."""
    changes = len(_status(custom).get("history", []))
    change = (
        ("set", "env", "deployment/checkout", f"VERSION={version}")
        if isinstance(cluster, ExistingCluster)
        else ("set", "image", "deployment/checkout", f"checkout=shop/checkout:{version}")
    )
    print(f"\n$ kubectl {' '.join(change)}", flush=True)
    cluster.kubectl(*change)
    return follow_rollout(lambda: _rollout(custom), changes, version, log)


def _reports(api: client.ApiClient, prometheus: PrometheusServer, directory: Path) -> None:
    """Each SLO's budget report, and where it is."""
    listed: Any = client.CustomObjectsApi(api).list_namespaced_custom_object(
        GROUP, VERSION, "default", "servicelevelobjectives"
    )
    print(f"\nBudget reports (slokeeper report NAME) in {directory.resolve()}:", flush=True)
    for item in listed["items"]:
        name = item["metadata"]["name"]
        try:
            made = write_report(
                api, PrometheusClient(prometheus.url), "default", name,
                output_dir=directory, points=REPORT_POINTS,
            )  # fmt: skip
        except ReportError as error:
            print(f"  {name}: no report: {error}")
            continue
        print(f"  {made.files[1].name}: {made.subtitle}")


def _rollouts(
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    workdir: Path,
    report_dir: Path,
    keep_up: bool,
) -> int:
    api = api_client(str(cluster.kubeconfig))
    custom = client.CustomObjectsApi(api)
    log = workdir / "operator.log"
    with (
        TrafficSimulator(api, ("default",), "app=checkout") as simulator,
        operator_process(cluster.kubeconfig, prometheus.url, log),
    ):
        prometheus.add_job(ScrapeJob("simulator", (simulator.address,)))
        print(f"Operator running (log: {log}); traffic simulated for every checkout pod.")
        cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(DEMO_ROLLOUT))
        deadline = time.monotonic() + 60
        while "stable" not in _status(custom) and time.monotonic() < deadline:
            time.sleep(0.5)
        print("ChangeRollout checkout adopted 1.1; the Deployment is held paused.")
        try:
            return _story(cluster, custom, api, prometheus, log, report_dir, keep_up)
        finally:
            if isinstance(cluster, ExistingCluster):
                # While the operator still runs: on deletion it lets go of the Deployment and
                # removes its finalizer.
                cluster.kubectl(
                    "delete", "changerollout", "checkout", "--ignore-not-found",
                    "--timeout=60s", timeout=90, check=False,
                )  # fmt: skip


def _story(  # noqa: PLR0917 - the demo's pieces, passed along once
    cluster: LocalCluster,
    custom: client.CustomObjectsApi,
    api: client.ApiClient,
    prometheus: PrometheusServer,
    log: Path,
    report_dir: Path,
    keep_up: bool,
) -> int:
    good = _ship(cluster, custom, "1.2", log)["history"][0]
    bad = _ship(cluster, custom, "1.3-bad", log)["history"][0]
    _reports(api, prometheus, report_dir)
    ship_again = (
        "kubectl set env deployment/checkout VERSION=1.4"
        if isinstance(cluster, ExistingCluster)
        else "kubectl set image deployment/checkout checkout=shop/checkout:1.4"
    )
    print(
        f"\n1.2: {good['outcome']} after {len(good['steps'])} steps. "
        f"1.3-bad: {bad['outcome']} ({bad['reason']}) in step {len(bad['steps'])}; "
        "the Deployment still runs 1.2 on every pod.\n"
        "Explore:\n"
        f"  export KUBECONFIG={cluster.kubeconfig}\n"
        "  kubectl get crollout,slo\n"
        "  slokeeper status; slokeeper rollout status checkout\n"
        "  kubectl get crollout checkout -o yaml      # every step, analysis and decision\n"
        "  kubectl get events --field-selector involvedObject.kind=ChangeRollout\n"
        f"  {ship_again}   # ship again",
        flush=True,
    )
    if keep_up:
        _wait_for_interrupt()
    return 0


def _kind_kubeconfig(workdir: Path) -> Path:
    kind = shutil.which("kind")
    if kind is None:
        raise SystemExit(
            "slokeeper demo --cluster kind: `kind` is not on PATH. Install kind "
            "(https://kind.sigs.k8s.io) and Docker, or pass --kubeconfig for another cluster."
        )
    kubeconfig = workdir / "kind.kubeconfig"
    clusters = subprocess.run(
        [kind, "get", "clusters"], capture_output=True, text=True, check=False
    ).stdout
    if KIND_CLUSTER not in clusters.split():
        print(f"slokeeper demo: creating the kind cluster {KIND_CLUSTER} …", flush=True)
        subprocess.run(
            [kind, "create", "cluster", "--name", KIND_CLUSTER, "--wait", "2m"], check=True
        )
    exported = subprocess.run(
        [kind, "get", "kubeconfig", "--name", KIND_CLUSTER],
        capture_output=True,
        text=True,
        check=True,
    )
    kubeconfig.write_text(exported.stdout)
    return kubeconfig


def _clean_up(cluster: LocalCluster, samples: list[Path]) -> None:
    """On a cluster that outlives the demo, remove what the demo made (the CRDs stay)."""
    cluster.kubectl("delete", "changerollout", "checkout", "--ignore-not-found", "--wait=false")
    cluster.kubectl("delete", "deployment", "checkout", "--ignore-not-found")
    for sample in samples:
        cluster.kubectl("delete", "-f", str(sample), "--ignore-not-found")


def run(args: argparse.Namespace) -> int:
    if args.real_node:
        return run_real_node(args, _wait_for_interrupt)
    with tempfile.TemporaryDirectory(prefix="slokeeper-demo-") as workdir:
        kubeconfig = args.kubeconfig
        if kubeconfig is None and args.cluster == "kind":
            kubeconfig = _kind_kubeconfig(Path(workdir))
        stack = LocalStack(Path(workdir), kubeconfig=kubeconfig)
        where = f"the cluster in {kubeconfig}" if kubeconfig else "the local control plane"
        print(f"slokeeper demo: starting {where} and Prometheus …", flush=True)
        with stack:
            cluster, prometheus, toolchain = stack.cluster, stack.prometheus, stack.toolchain
            if cluster is None or prometheus is None or toolchain is None:
                raise RuntimeError("the local stack started without a cluster or Prometheus")
            samples = sorted(args.samples.glob("slo-*.yaml"))
            try:
                return _run_on(cluster, prometheus, toolchain, stack, samples, args)
            finally:
                if kubeconfig:
                    _clean_up(cluster, samples)
                print("slokeeper demo: stopping …", flush=True)


def _run_on(  # noqa: PLR0917 - the environment the demo just started
    cluster: LocalCluster,
    prometheus: PrometheusServer,
    toolchain: Toolchain,
    stack: LocalStack,
    samples: list[Path],
    args: argparse.Namespace,
) -> int:
    external = isinstance(cluster, ExistingCluster)
    # Before the SLOs exist: their first status already covers the month.
    backfill = backfill_month(
        prometheus, toolchain.promtool, load_objectives(samples), stack.workdir, datetime.now(UTC)
    )
    print(backfill.summary(), flush=True)
    install_crds(cluster)
    container = EXTERNAL_CONTAINER if external else LOCAL_CONTAINER
    cluster.kubectl("apply", "-f", "-", input_text=demo_deployment(container))
    for sample in samples:
        cluster.kubectl("apply", "-f", str(sample))
    print("Waiting for 4 checkout pods to be Ready …", flush=True)
    cluster.kubectl("rollout", "status", "deployment/checkout", "--timeout=120s", timeout=150)
    print(
        f"\nUp in {stack.startup_seconds['total']:.1f}s "
        + (
            f"(your cluster, Prometheus {toolchain.prometheus_version} here).\n"
            if external
            else f"(Kubernetes {toolchain.kubernetes_version}, kwok nodes, Prometheus).\n"
        )
        + f"  export KUBECONFIG={cluster.kubeconfig}\n"
        "  kubectl get nodes,deployments,slo,crollout\n"
        f"  Prometheus: {prometheus.url}\n"
        f"  kubectl binary: {cluster.toolchain.kubectl}\n",
        flush=True,
    )
    print(cluster.kubectl("get", "slo").stdout)
    if args.exit_after_start:
        return 0
    return _rollouts(
        cluster, prometheus, stack.workdir, args.report_dir, keep_up=not args.exit_when_done
    )


def _wait_for_interrupt() -> None:
    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)
    stop.wait()
