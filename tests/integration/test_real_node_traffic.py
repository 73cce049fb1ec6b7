"""User story: on real pods, real requests. A load generator pod sends 20 requests a second
through a Service to two pods of the demo application, one version of which fails a tenth of
them; Prometheus finds the pods through the API server and scrapes them, and the rate and the
error ratio it reports are the ones the pods served."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import yaml

from polling import eventually
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.realnode.images import RealNodeImages
from slokeeper.localcluster.realnode.node import RealNodeCluster
from slokeeper.prometheus.client import PrometheusClient

RATE = 20.0


def _deployment(namespace: str, name: str, image: str, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": container.pop("replicas", 1),
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {
                    "labels": {"app": name},
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
                },
                "spec": {
                    "containers": [
                        {"name": name, "image": image, "imagePullPolicy": "Never", **container}
                    ]
                },
            },
        },
    }


def _value(prometheus: PrometheusClient, query: str) -> float | None:
    samples = prometheus.query(query)
    return samples[0].value if samples else None


def test_prometheus_scrapes_real_pods_serving_real_requests(
    real_node: RealNodeCluster,
    real_node_images: RealNodeImages,
    real_node_prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    namespace = f"traffic-{secrets.token_hex(2)}"
    real_node.kubectl("create", "namespace", namespace)
    image = real_node_images.demoapp.name
    demo = _deployment(
        namespace, "demo", image, replicas=2,
        env=[{"name": "ERROR_RATIO", "value": "0.1"}, {"name": "VERSION", "value": "1.1"}],
        ports=[{"name": "http", "containerPort": 8080}],
        readinessProbe={"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1},
    )  # fmt: skip
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "demo", "namespace": namespace},
        "spec": {"selector": {"app": "demo"}, "ports": [{"port": 80, "targetPort": "http"}]},
    }
    manifest = tmp_path / "demo.yaml"
    manifest.write_text(yaml.safe_dump_all([demo, service]))
    real_node.kubectl("apply", "-f", str(manifest))
    service_ip = real_node.kubectl(
        "get", "service", "demo", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}"
    ).stdout
    load = _deployment(
        namespace, "load", image,
        command=["python3", "-m", "slokeeper.demoapp.load",
                 "--url", f"http://{service_ip}/", "--rate", str(RATE)],
    )  # fmt: skip
    load["spec"]["template"]["metadata"]["annotations"] = {}
    (tmp_path / "load.yaml").write_text(yaml.safe_dump(load))
    real_node.kubectl("apply", "-f", str(tmp_path / "load.yaml"))
    for name in ("demo", "load"):
        rolled = real_node.kubectl(
            "rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=90s",
            check=False,
        )  # fmt: skip
        assert rolled.returncode == 0, rolled.stderr

    prometheus = PrometheusClient(real_node_prometheus.url)
    selector = f'namespace="{namespace}"'
    rate = f"sum(rate(http_requests_total{{{selector}}}[30s]))"
    seen = eventually(
        lambda: _value(prometheus, rate),
        lambda value: value is not None and abs(value - RATE) <= 0.2 * RATE,
        f"Prometheus to see about {RATE:g} requests/s to the demo pods",
        timeout=90,
        interval=2,
    )
    errors = _value(
        prometheus,
        f'sum(rate(http_requests_total{{{selector},code=~"5.."}}[30s])) / {rate}',
    )
    pods = {s.labels["pod"] for s in prometheus.query(f"http_requests_total{{{selector}}}")}
    print(f"{seen:.1f} requests/s, error ratio {errors}, from pods {sorted(pods)}")
    assert errors is not None
    assert 0.05 <= errors <= 0.15, errors
    assert len(pods) == 2, pods
    assert all(pod.startswith("demo-") for pod in pods), pods
    real_node.kubectl("delete", "namespace", namespace, "--wait=false")
