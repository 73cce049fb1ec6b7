"""The chart as tests use it: ``helm`` from the toolchain, run against a local cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain

CHART = Path(__file__).resolve().parents[1] / "charts" / "slokeeper"


def helm(
    toolchain: Toolchain, *args: str, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run helm; fail with what it said when it exits non-zero."""
    config = ("--kubeconfig", str(kubeconfig)) if kubeconfig else ()
    finished = subprocess.run(
        [str(toolchain.helm), *args, *config],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, f"helm {' '.join(args)}: {finished.stderr}{finished.stdout}"
    return finished


def rendered(
    toolchain: Toolchain,
    *set_values: str,
    namespace: str = "slokeeper-system",
    show_only: str | None = None,
) -> str:
    """``helm template`` output (the toolchain's helm needs the Kubernetes version told)."""
    values = [arg for value in set_values for arg in ("--set", value)]
    if show_only:
        values += ["--show-only", show_only]
    return helm(
        toolchain, "template", "slokeeper", str(CHART), "--namespace", namespace,
        "--kube-version", toolchain.kubernetes_version, *values,
    ).stdout  # fmt: skip


def objects(text: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(text) if document]


def install_service_monitor_crd(cluster: LocalCluster, toolchain: Toolchain) -> None:
    """Only the ServiceMonitor CRD: PrometheusRule stays unserved, so the operator writes its
    rules as ConfigMaps on this cluster."""
    crd = toolchain.prometheus_operator_crds / "monitoring.coreos.com_servicemonitors.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
