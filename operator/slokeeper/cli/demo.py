"""``slokeeper demo``: the local control plane and Prometheus with slokeeper's resources applied.

Builds the control plane on first use (cached afterwards), starts it, applies the CRDs and the
samples, and prints how to reach everything; Ctrl-C stops it all.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from slokeeper.cli.crds import install_crds
from slokeeper.localcluster.stack import LocalStack

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


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="start the local control plane and Prometheus with slokeeper's resources"
    )
    parser.add_argument(
        "--samples",
        type=Path,
        default=Path("manifests/samples"),
        help="directory of sample resources to apply (default: manifests/samples)",
    )
    parser.add_argument(
        "--exit-after-start",
        action="store_true",
        help="stop everything once it is up and applied (a smoke test of the demo)",
    )
    parser.set_defaults(run=run)


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
            if args.samples.is_dir():
                cluster.kubectl("apply", "-f", str(args.samples))
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
            print(cluster.kubectl("get", "slo,crollout").stdout)
            if args.exit_after_start:
                return 0
            _wait_for_interrupt()
            print("slokeeper demo: stopping …", flush=True)
    return 0


def _wait_for_interrupt() -> None:
    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)
    stop.wait()
