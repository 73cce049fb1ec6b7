"""``slokeeper demo --real-node``: the demo's story on real pods with real traffic.

Starts a real single-node Kubernetes (kubelet, containerd and kube-proxy in a network namespace
of their own; root needed), builds or reuses the images, starts Prometheus inside the node and
``slokeeper run`` here, then applies the story of ``localcluster/realnode/story.py``: four pods of
the demo application behind a Service, a load generator sending them 40 requests a second, an
availability and a latency SLO, a ChangeRollout. It ships a good version (promoted step by
step), one failing a fifth of its requests and one five times slower (each rolled back on its
SLO), showing each as it goes and checking that the stable pods were never restarted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from slokeeper.cli.demo_rollout import follow_rollout, read_rollout
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.realnode import story
from slokeeper.localcluster.toolchain import ensure_toolchain

NAMESPACE = "default"
ROOT_NEEDED = (
    "slokeeper demo --real-node needs root: it creates a network namespace and runs containerd, "
    "a kubelet and kube-proxy inside it (nothing outside that namespace changes).\n"
    "Run it as root, e.g. `sudo .venv/bin/slokeeper demo --real-node`, or run `slokeeper demo` "
    "without --real-node: the same story on KWOK's simulated pods, no root needed."
)


def run_real_node(args: argparse.Namespace, wait_for_interrupt: Callable[[], None]) -> int:
    """The real-node demo; ``wait_for_interrupt`` keeps it up at the end unless told not to."""
    if os.geteuid() != 0:
        print(ROOT_NEEDED, file=sys.stderr)
        return 2
    if args.kubeconfig is not None or args.cluster != "local":
        print("slokeeper demo: --real-node starts its own node; drop --kubeconfig/--cluster")
        return 2
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="slokeeper-demo-") as workdir:
        print(
            "slokeeper demo: starting a real node (kubelet, containerd, kube-proxy in a network "
            "namespace), its Prometheus and the images …",
            flush=True,
        )
        with story.environment(ensure_toolchain(), Path(workdir)) as env:
            try:
                return _on_the_node(env, Path(workdir), args, began, wait_for_interrupt)
            finally:
                print("slokeeper demo: stopping …", flush=True)


def _on_the_node(
    env: story.Environment,
    workdir: Path,
    args: argparse.Namespace,
    began: float,
    wait_for_interrupt: Callable[[], None],
) -> int:
    node = env.node
    log = workdir / "operator.log"
    with operator_process(node.kubeconfig, env.prometheus.url, log):
        print(f"Operator running (log: {log}).", flush=True)
        print("Waiting for 4 checkout pods, the load generator and the adoption …", flush=True)
        service_ip = story.set_up(node, NAMESPACE, env.images.demoapp.name)
        print(
            f"\nUp in {time.monotonic() - began:.1f}s (Kubernetes "
            f"{node.toolchain.kubernetes_version}, one real node, Prometheus inside it).\n"
            f"  export KUBECONFIG={node.kubeconfig}\n"
            "  kubectl get pods,services,slo,crollout\n"
            f"  Prometheus: {env.prometheus.url}\n"
            f"  kubectl binary: {node.toolchain.kubectl}\n"
            f"A load generator pod sends 40 requests/s to the checkout Service ({service_ip}), "
            "whose 4 pods serve them; Prometheus scrapes each pod every 5 s.\n"
            "ChangeRollout checkout adopted 1.1; the Deployment is held paused.",
            flush=True,
        )
        if args.exit_after_start:
            return 0
        _story(env, log)
        print(_explore(node.kubeconfig), flush=True)
        if not args.exit_when_done:
            wait_for_interrupt()
    return 0


def _story(env: story.Environment, log: Path) -> None:
    custom = client.CustomObjectsApi(api_client(str(env.node.kubeconfig)))
    outcomes = []
    for version in (story.GOOD, story.BAD, story.SLOW):
        stable = _stable_pods(env)
        change = _ship(env, custom, version, log)["history"][0]
        untouched = ""
        if change["outcome"] != "Promoted":
            after = _stable_pods(env)
            restarts = sum(after.values())
            kept = "the same" if after.keys() == stable.keys() else "NOT the same"
            untouched = f"; stable pods: {kept} {len(after)}, {restarts} restarts"
        failed = (change.get("analyses") or [{}])[-1].get("measurements", [])
        slos = sorted({m["name"].split()[0] for m in failed if m.get("passed") is False})
        on = f" on {', '.join(s.removeprefix('slo/') for s in slos)}" if slos else ""
        outcomes.append(
            f"{version.name}: {change['outcome']} ({change['reason']}{on}) after "
            f"{len(change['steps'])} step(s){untouched}."
        )
    print("\n" + "\n".join(outcomes), flush=True)
    load, _ = story.load_counts(env.node, NAMESPACE)
    print(f"Real requests, as the load generator counted them: {load}", flush=True)


def _stable_pods(env: story.Environment) -> dict[str, int]:
    """Each stable checkout pod's uid and restart count (not counting pods on their way out,
    such as those a promotion has just replaced)."""
    selector = f"app={story.TARGET},!slokeeper.dev/track"
    found = env.node.kubectl("get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "json")
    return {
        pod["metadata"]["uid"]: sum(
            c.get("restartCount", 0) for c in pod["status"].get("containerStatuses", [])
        )
        for pod in json.loads(found.stdout)["items"]
        if not pod["metadata"].get("deletionTimestamp")
    }


def _rollout(custom: client.CustomObjectsApi) -> dict[str, Any]:
    return read_rollout(custom, NAMESPACE, story.TARGET)


def _ship(
    env: story.Environment, custom: client.CustomObjectsApi, version: story.Version, log: Path
) -> dict[str, Any]:
    """Change the pod template, as a GitOps commit would, and show the rollout until it ends."""
    changes = len((_rollout(custom).get("status") or {}).get("history", []))
    command = story.ship(NAMESPACE, version)
    print(f"\n$ kubectl {' '.join(a for a in command if a not in ('-n', NAMESPACE))}", flush=True)
    env.node.kubectl(*command)
    return follow_rollout(lambda: _rollout(custom), changes, version.name, log)


def _explore(kubeconfig: Path) -> str:
    return (
        "\nExplore (pod and Service IPs exist only inside the node's network namespace):\n"
        f"  export KUBECONFIG={kubeconfig}\n"
        "  kubectl get pods -o wide; kubectl logs deployment/load\n"
        "  kubectl get crollout,slo\n"
        "  slokeeper status; slokeeper rollout status checkout\n"
        "  kubectl get crollout checkout -o yaml      # every step, analysis and decision\n"
        "  kubectl get events --field-selector involvedObject.kind=ChangeRollout\n"
        "  kubectl set env deployment/checkout VERSION=1.5 PROFILE=healthy   # ship again"
    )
