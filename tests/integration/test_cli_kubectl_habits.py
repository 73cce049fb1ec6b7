"""User story: an SRE used to kubectl and `kubectl argo rollouts` drives a change with slokeeper's
CLI: global flags first, `rollout list` and `rollout get` (the ReplicaSet and pod tree), a
one-step `promote` that skips a long pause, `promote --full` followed by `get --watch` to the
end; and a Prometheus that does not answer is one line and exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from kubernetes import client

from polling import eventually
from resources import (
    adopt_checkout,
    apply,
    availability_slo,
    change_rollout,
    events,
    phase_is,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.simulator.server import TrafficSimulator
from workloads import set_image

LONG_STEPS = [{"weight": w, "pause": "10m"} for w in (5, 25, 50)]


def slokeeper(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user types it: the kubeconfig first, before the command."""
    return subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "--kubeconfig", str(kubeconfig), *args],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def canary_serving(status: dict[str, Any]) -> bool:
    """A canary runs with its pods Ready (its share of pods is no longer 0)."""
    steps = (status.get("current") or {}).get("steps") or [{}]
    return status.get("phase") == "Progressing" and bool(steps[-1].get("canaryWeightPercent"))


def test_list_get_promote_a_step_then_everything_and_watch_it_end(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    adopt_checkout(
        cluster, api_client, namespace, availability_slo(namespace),
        change_rollout(namespace, steps=LONG_STEPS),
    )  # fmt: skip
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: rollout_status(cluster, namespace),
        canary_serving,
        "the canary of 1.2 at step 1 with its pods Ready",
    )

    listed = slokeeper(cluster.kubeconfig, "-n", namespace, "rollout", "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "TARGET", "PHASE", "STEP", "WEIGHT", "REASON", "AGE"]
    assert row.split()[:5] == ["checkout", "checkout", "Progressing", "1/3", "20%"], row
    everywhere = slokeeper(cluster.kubeconfig, "rollout", "list", "-A").stdout.splitlines()
    assert everywhere[0].split()[0] == "NAMESPACE"
    assert any(line.split()[:2] == [namespace, "checkout"] for line in everywhere[1:])

    got = slokeeper(cluster.kubeconfig, "-n", namespace, "rollout", "get", "checkout")
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    assert lines[1].split()[:4] == ["⟳", "checkout", "ChangeRollout", "Progressing"]
    revisions = [line.split() for line in lines if "# revision" in line]
    assert [(r[-2], r[-1]) for r in revisions] == [
        ("canary", "shop/checkout:1.2"),
        ("stable", "shop/checkout:1.1"),
    ], got.stdout
    pods = [line.split() for line in lines if " Pod " in line]
    assert len(pods) == 5, "1 canary pod and 4 stable ones"
    assert all(pod[-4:-2] == ["✔", "Running"] and pod[-1] == "ready:1/1" for pod in pods)
    assert "checkout-canary-" in " ".join(pods[0]), "the canary's pod first, under its revision"

    # A plain promote skips the 10 minute pause of step 1 only: step 2 starts now.
    stepped = slokeeper(cluster.kubeconfig, "-n", namespace, "rollout", "promote", "checkout")
    assert stepped.returncode == 0, stepped.stderr
    assert "checkout: promote of the current step requested" in stepped.stdout
    at_step_2 = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("current", {}).get("step") == 1,
        "step 2 after one promote",
    )
    assert at_step_2["phase"] == "Progressing"
    said = [e["message"] for e in events(cluster, namespace, "ChangeRollout")
            if e["reason"] == "StepPromotedByHand"]  # fmt: skip
    assert said == ["Step 2 of 3: 25%, step 1's pause and analysis skipped by a person."]

    # --watch follows the change: started before the full promotion, it ends with it.
    watch = subprocess.Popen(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", "get", "checkout", "--watch",
         "-n", namespace, "--kubeconfig", str(cluster.kubeconfig)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert watch.stdout is not None
    first = list(iter(watch.stdout.readline, "\n"))  # its first drawing, up to the blank line
    assert "Progressing" in first[1], first
    full = slokeeper(
        cluster.kubeconfig, "rollout", "promote", "checkout", "--full", "-n", namespace
    )
    assert full.returncode == 0, full.stderr
    assert "checkout: promote of every step requested" in full.stdout
    out, err = watch.communicate(timeout=180)
    assert watch.returncode == 0, out + err
    drawings = out.strip().split("\n\n")
    assert drawings[-1].splitlines()[1].split()[3] == "Succeeded", drawings[-1]
    done = rollout_status(cluster, namespace)
    assert phase_is("Succeeded", changes=1)(done)
    assert len(done["history"][0]["steps"]) == 2, "steps 1 and 2 ran; step 3 was skipped"


def test_an_unreachable_prometheus_is_one_line_and_exit_1(
    cluster: LocalCluster, api_client: client.ApiClient, namespace: str
) -> None:
    apply(cluster, availability_slo(namespace))
    ran = slokeeper(
        cluster.kubeconfig, "--prometheus-url", "http://127.0.0.1:1", "-n", namespace,
        "report", "checkout-availability", "--prometheus-timeout", "5s",
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr
    (line,) = ran.stderr.splitlines()
    assert "Prometheus at http://127.0.0.1:1 did not answer: Connection refused" in line, line
