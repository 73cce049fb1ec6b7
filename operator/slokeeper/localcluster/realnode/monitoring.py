"""Prometheus for the real node: it runs inside the node's network namespace, finds pods through
the API server (``kubernetes_sd_configs``, role pod) and scrapes those annotated
``prometheus.io/scrape: "true"`` on ``prometheus.io/port``, labelling each series with
``namespace`` and ``pod`` as the operator's queries expect. Pods reach it at the node IP; the
operator and the tests through a relay on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.realnode.configs import NODE_IP
from slokeeper.localcluster.realnode.node import RealNodeCluster

PROMETHEUS_PORT = 9090


def pod_discovery_job(kubeconfig: Path) -> dict[str, Any]:
    """Every annotated pod of the cluster ``kubeconfig`` reaches."""
    annotation = "__meta_kubernetes_pod_annotation_prometheus_io_"
    return {
        "job_name": "pods",
        "kubernetes_sd_configs": [{"role": "pod", "kubeconfig_file": str(kubeconfig)}],
        "relabel_configs": [
            {"source_labels": [f"{annotation}scrape"], "action": "keep", "regex": "true"},
            {
                "source_labels": ["__meta_kubernetes_pod_ip", f"{annotation}port"],
                "regex": "(.+);(\\d+)",
                "replacement": "$1:$2",
                "target_label": "__address__",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Pending|Succeeded|Failed",
             "action": "drop"},
        ],
    }  # fmt: skip


def node_prometheus(
    node: RealNodeCluster, binary: Path, workdir: Path, scrape_interval: str = "5s"
) -> PrometheusServer:
    """A Prometheus (not started) that scrapes the node's pods from inside its namespace."""
    port = node.relay(PROMETHEUS_PORT, "prometheus")
    return PrometheusServer(
        binary,
        workdir,
        scrape_interval=scrape_interval,
        evaluation_interval=scrape_interval,
        discovery_jobs=[pod_discovery_job(node.workdir / "admin.conf")],
        listen_address=f"{NODE_IP}:{PROMETHEUS_PORT}",
        launcher=tuple(node.namespace.enter()),
        reached_at=f"http://127.0.0.1:{port}",
    )
