"""Writes the kustomize manifests from the Helm chart, so both install paths ship the same
objects: ``make manifests`` (or ``python manifests/render.py --check`` to only compare).

manifests/base          CRDs, namespace, ServiceAccount, RBAC, Deployment, metrics Service
manifests/monitoring    base + ServiceMonitor + the Grafana dashboard ConfigMap
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from slokeeper.api.base import GROUP
from slokeeper.cli.crds import HEADER as CRD_HEADER
from slokeeper.localcluster.toolchain import ensure_toolchain

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "slokeeper"
NAMESPACE = "slokeeper-system"
HEADER = "# Generated from charts/slokeeper by `make manifests`; do not edit: change the chart.\n"
HELM_ONLY_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")


def _template(*values: str) -> list[dict[str, Any]]:
    toolchain = ensure_toolchain()
    # The CRDs come from crds/ below (the chart's templated copy carries Helm-only metadata).
    sets = [arg for value in ("crds.install=false", *values) for arg in ("--set", value)]
    text = subprocess.run(
        [str(toolchain.helm), "template", "slokeeper", str(CHART), "--namespace", NAMESPACE,
         "--kube-version", toolchain.kubernetes_version, "--skip-tests", *sets],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    documents = [d for d in yaml.safe_load_all(text) if d]
    for document in documents:
        labels = document["metadata"].get("labels", {})
        for label in HELM_ONLY_LABELS:
            labels.pop(label, None)
    return documents


def _file(documents: list[dict[str, Any]]) -> str:
    return HEADER + "---\n".join(yaml.safe_dump(d, sort_keys=False, width=100) for d in documents)


def _kustomization(resources: list[str]) -> str:
    return HEADER + yaml.safe_dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        },
        sort_keys=False,
    )


def wanted_files() -> dict[Path, str]:
    base = _template()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for document in base:
        by_kind.setdefault(document["kind"], []).append(document)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    files = {
        # kustomize reads nothing outside a kustomization's directory: the CRDs come along.
        Path("manifests/base/crds.yaml"): HEADER
        + "---\n".join(
            path.read_text().removeprefix(CRD_HEADER)
            for path in sorted((ROOT / "crds").glob(f"{GROUP}_*.yaml"))
        ),
        Path("manifests/base/namespace.yaml"): _file([namespace]),
        Path("manifests/base/serviceaccount.yaml"): _file(by_kind.pop("ServiceAccount")),
        Path("manifests/base/rbac.yaml"): _file(
            [d for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
             for d in by_kind.pop(kind, [])]
        ),
        Path("manifests/base/admission-policies.yaml"): _file(
            by_kind.pop("ValidatingAdmissionPolicy")
            + by_kind.pop("ValidatingAdmissionPolicyBinding")
        ),
        Path("manifests/base/deployment.yaml"): _file(by_kind.pop("Deployment")),
        Path("manifests/base/service.yaml"): _file(by_kind.pop("Service")),
    }  # fmt: skip
    assert not by_kind, f"the chart renders kinds manifests/base does not place: {set(by_kind)}"
    files[Path("manifests/base/kustomization.yaml")] = _kustomization(
        sorted(p.name for p in files if p.parent.name == "base")
    )
    monitoring = [
        d
        for d in _template("serviceMonitor.enabled=true", "grafanaDashboard.enabled=true")
        if d["kind"] == "ServiceMonitor" or d["metadata"]["name"].endswith("-dashboard")
    ]
    files[Path("manifests/monitoring/servicemonitor.yaml")] = _file(
        [d for d in monitoring if d["kind"] == "ServiceMonitor"]
    )
    files[Path("manifests/monitoring/grafana-dashboard.yaml")] = _file(
        [d for d in monitoring if d["kind"] == "ConfigMap"]
    )
    files[Path("manifests/monitoring/kustomization.yaml")] = _kustomization(
        ["../base", "servicemonitor.yaml", "grafana-dashboard.yaml"]
    )
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    args = parser.parse_args()
    stale = []
    for relative, text in wanted_files().items():
        path = ROOT / relative
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(relative))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {relative}")
    for relative in stale:
        print(f"{relative} is stale: run `make manifests`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
