"""``slokeeper demo``: the operator on the local control plane, a canary promoted and a bad one
rolled back.

Builds the control plane on first use (cached afterwards), starts it with Prometheus, applies the
CRDs and the sample SLOs, starts the traffic simulator and ``slokeeper run``, guards the checkout
Deployment with a ChangeRollout, then ships a good version (promoted step by step) and a failing
one (rolled back), showing each as it goes. It keeps everything up for exploring until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from kubernetes import client

from slokeeper.api.base import GROUP, VERSION
from slokeeper.cli.crds import install_crds
from slokeeper.cli.rollout_view import RolloutView
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.localcluster.stack import LocalStack
from slokeeper.simulator.server import TrafficSimulator

DEMO_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: default
  labels: {app: checkout}
spec:
  replicas: 4
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: checkout
          image: shop/checkout:1.1
"""


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
ROLLOUT_DEADLINE_SECONDS = 300.0


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


def _status(custom: client.CustomObjectsApi) -> dict[str, Any]:
    found: Any = custom.get_namespaced_custom_object(
        GROUP, VERSION, "default", "changerollouts", "checkout"
    )
    status: dict[str, Any] = found.get("status") or {}
    return status


def _ship(
    cluster: LocalCluster, custom: client.CustomObjectsApi, version: str, log: Path
) -> dict[str, Any]:
    """Set the image, as a GitOps commit would, and show the rollout until it ends."""
    changes = len(_status(custom).get("history", []))
    print(f"\n$ kubectl set image deployment/checkout checkout=shop/checkout:{version}")
    cluster.kubectl("set", "image", "deployment/checkout", f"checkout=shop/checkout:{version}")
    view = RolloutView(sys.stdout)
    deadline = time.monotonic() + ROLLOUT_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        status = _status(custom)
        view.show(status)
        if len(status.get("history", [])) > changes and status.get("phase") != "Promoting":
            return status
        time.sleep(1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise RuntimeError(f"the rollout of {version} did not end in time; operator log:\n{tail}")


def _rollouts(cluster: LocalCluster, prometheus: PrometheusServer, workdir: Path) -> int:
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
        print("ChangeRollout checkout adopted shop/checkout:1.1; the Deployment is held paused.")
        good = _ship(cluster, custom, "1.2", log)["history"][0]
        bad = _ship(cluster, custom, "1.3-bad", log)["history"][0]
        print(
            f"\n1.2: {good['outcome']} after {len(good['steps'])} steps. "
            f"1.3-bad: {bad['outcome']} ({bad['reason']}) in step {len(bad['steps'])}; "
            "the Deployment still runs 1.2 on every pod.\n"
            "Explore:\n"
            f"  export KUBECONFIG={cluster.kubeconfig}\n"
            "  kubectl get crollout,slo\n"
            "  kubectl get crollout checkout -o yaml      # every step, analysis and decision\n"
            "  kubectl get events --field-selector involvedObject.kind=ChangeRollout\n"
            "  kubectl set image deployment/checkout checkout=shop/checkout:1.4   # ship again",
            flush=True,
        )
        return 0


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="slokeeper-demo-") as workdir:
        stack = LocalStack(Path(workdir))
        print("slokeeper demo: starting the local control plane and Prometheus …", flush=True)
        with stack:
            cluster, prometheus, toolchain = stack.cluster, stack.prometheus, stack.toolchain
            if cluster is None or prometheus is None or toolchain is None:
                raise RuntimeError("the local stack started without a cluster or Prometheus")
            install_crds(cluster)
            cluster.kubectl("apply", "-f", "-", input_text=DEMO_DEPLOYMENT)
            for sample in sorted(args.samples.glob("slo-*.yaml")):
                cluster.kubectl("apply", "-f", str(sample))
            cluster.kubectl("rollout", "status", "deployment/checkout", "--timeout=60s", timeout=90)
            print(
                f"\nUp in {stack.startup_seconds['total']:.1f}s "
                f"(Kubernetes {toolchain.kubernetes_version}, "
                "kwok nodes, Prometheus).\n"
                f"  export KUBECONFIG={cluster.kubeconfig}\n"
                f"  kubectl get nodes,deployments,slo,crollout\n"
                f"  Prometheus: {prometheus.url}\n"
                f"  kubectl binary: {cluster.toolchain.kubectl}\n",
                flush=True,
            )
            print(cluster.kubectl("get", "slo").stdout)
            if args.exit_after_start:
                return 0
            code = _rollouts(cluster, prometheus, Path(workdir))
            if not args.exit_when_done:
                _wait_for_interrupt()
            print("slokeeper demo: stopping …", flush=True)
    return code


def _wait_for_interrupt() -> None:
    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)
    stop.wait()
