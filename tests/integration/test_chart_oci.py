"""User story: an SRE installs slokeeper from the OCI chart the release pushes
(``helm install slokeeper oci://ghcr.io/slokeeper/charts/slokeeper --version X``).

ghcr.io cannot be reached here, so the release workflow's own chart step (package, log in, push,
read the digest the signing step signs) runs against an in-memory OCI registry (`crane registry
serve`, built from the Go module proxy into the toolchain cache), with helm told to use plain
HTTP for it; then the chart is installed from that registry onto a local cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from helm import CHART, helm
from polling import eventually
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.processes import free_port
from slokeeper.localcluster.toolchain import BUILD_SCRIPT, Toolchain, cache_root, pinned_versions

REPO = CHART.parents[1]
WORKFLOW: dict[str, Any] = yaml.safe_load(
    (REPO / ".github" / "workflows" / "release.yaml").read_text()
)
VERSION = str(yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"])


def crane() -> Path:
    binary = cache_root() / f"crane-{pinned_versions()['CRANE_VERSION']}" / "crane"
    if not (binary.parent / ".complete").is_file():
        subprocess.run(["bash", str(BUILD_SCRIPT), "--only", "crane"], check=True)
    assert binary.is_file(), f"crane is missing at {binary} after {BUILD_SCRIPT} --only crane"
    return binary


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """host:port of an empty OCI registry, over plain HTTP."""
    address = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        [str(crane()), "registry", "serve", "--address", address],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        eventually(
            lambda: (
                subprocess.run(
                    [str(crane()), "catalog", address, "--insecure"],
                    capture_output=True,
                    check=False,
                ).returncode
            ),
            lambda code: code == 0,
            "the registry to answer",
            timeout=20,
        )
        yield address
    finally:
        server.terminate()
        server.wait(timeout=10)


def _helm_for_plain_http(toolchain: Toolchain, directory: Path) -> Path:
    """A `helm` first on PATH that adds --plain-http where the workflow's commands talk to the
    registry (ghcr.io speaks TLS; the test registry does not). Everything else is helm itself."""
    shim = directory / "helm"
    shim.write_text(
        "#!/bin/sh\n"
        f'real="{toolchain.helm}"\n'
        'case "$1 $2" in\n'
        '  "registry login"*) exec "$real" "$@" --plain-http ;;\n'
        '  push*) exec "$real" "$@" --plain-http ;;\n'
        "esac\n"
        'exec "$real" "$@"\n'
    )
    shim.chmod(0o755)
    return directory


def run_the_workflows_chart_step(toolchain: Toolchain, registry: str, work: Path) -> str:
    """The release workflow's "push the chart" step, for the chart's version; the digest it
    hands to the signing step."""
    step = next(s for s in WORKFLOW["jobs"]["release"]["steps"] if s.get("id") == "chart")
    output = work / "github_output"
    output.touch()
    bin_dir = _helm_for_plain_http(toolchain, work)
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HELM_CONFIG_HOME": str(work / "helm-config"),
        "HELM_CACHE_HOME": str(work / "helm-cache"),
        "GITHUB_OUTPUT": str(output),
        "REGISTRY": registry,
        "CHART_REPOSITORY": f"oci://{registry}/slokeeper/charts",
        "CHART_DIR": str(CHART),
        "VERSION": VERSION,
        "ACTOR": "release-bot",
        "TOKEN": "unused-by-this-registry",
    }
    finished = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=work, env=environment, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout + finished.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return outputs["digest"]


@pytest.fixture(scope="module")
def cluster(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    with LocalCluster(toolchain, tmp_path_factory.mktemp("oci-cluster"), nodes=1) as started:
        yield started


def test_the_pushed_chart_installs_from_the_oci_registry(
    toolchain: Toolchain, registry: str, cluster: LocalCluster, tmp_path: Path
) -> None:
    digest = run_the_workflows_chart_step(toolchain, registry, tmp_path)
    reference = f"{registry}/slokeeper/charts/slokeeper:{VERSION}"
    served = subprocess.run(
        [str(crane()), "digest", reference, "--insecure"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert digest == served, "the signing step would sign another artifact than the one pushed"

    chart = f"oci://{registry}/slokeeper/charts/slokeeper"
    shown = yaml.safe_load(
        helm(toolchain, "show", "chart", chart, "--version", VERSION, "--plain-http").stdout
    )
    assert shown["annotations"]["artifacthub.io/license"] == "Apache-2.0"
    helm(
        toolchain, "install", "slokeeper", chart, "--version", VERSION, "--plain-http",
        "--namespace", "slokeeper-system", "--create-namespace", "--wait", "--timeout", "2m",
        kubeconfig=cluster.kubeconfig,
    )  # fmt: skip
    deployment = json.loads(
        cluster.kubectl(
            "get", "deployment", "slokeeper", "-n", "slokeeper-system", "-o", "json"
        ).stdout
    )
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"ghcr.io/slokeeper/slokeeper:{VERSION}"
    crds = cluster.kubectl("get", "crd", "-o", "name").stdout.split()
    assert (
        "customresourcedefinition.apiextensions.k8s.io/servicelevelobjectives.slokeeper.dev" in crds
    )
