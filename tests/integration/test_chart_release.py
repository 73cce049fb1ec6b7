"""User story: an SRE installs the published chart and gets the image the release pushed, reads
release notes that work as written, finds the chart on ArtifactHub, and checks the install with
``helm test``.

The release workflow itself cannot run here (no registry, no GitHub OIDC for cosign): its checks
are in tests/unit/lint/test_release_workflow.py. Here: the chart's rendered default image is the
reference the workflow pushes for the chart's version; ArtifactHub's annotations agree with the
chart; NOTES.txt has no placeholder; and the ``helm test`` Pod is locked down like the operator
and its command passes against a running operator, failing with a message against none.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from helm import CHART, helm, objects, rendered
from running_operator import running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.processes import free_port
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain

REPO = CHART.parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "release.yaml"
CHART_YAML: dict[str, Any] = yaml.safe_load((CHART / "Chart.yaml").read_text())
HOOK = "templates/tests/metrics-answer.yaml"


def pushed_image() -> str:
    """What the release workflow pushes when the chart's version is tagged: its IMAGE, and the
    tag the version step writes for `v<appVersion>`."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    build = next(s for s in workflow["jobs"]["release"]["steps"] if s.get("id") == "build")
    version = str(CHART_YAML["appVersion"])
    return (
        build["with"]["tags"]
        .replace("${{ env.IMAGE }}", workflow["env"]["IMAGE"])
        .replace("${{ steps.version.outputs.version }}", version)
    )


def test_the_charts_default_image_is_the_one_the_release_pushes(toolchain: Toolchain) -> None:
    deployment = next(o for o in objects(rendered(toolchain)) if o["kind"] == "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert image == f"{values['image']['repository']}:{CHART_YAML['appVersion']}"
    assert image == pushed_image()
    listed = yaml.safe_load(CHART_YAML["annotations"]["artifacthub.io/images"])
    assert [entry["image"] for entry in listed] == [pushed_image()]


def test_artifacthub_metadata_names_the_source_license_maintainers_and_every_crd() -> None:
    annotations = CHART_YAML["annotations"]
    license_ = annotations["artifacthub.io/license"]
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'license = "{license_}"' in pyproject
    links = {
        link["name"]: link["url"] for link in yaml.safe_load(annotations["artifacthub.io/links"])
    }
    assert links["source"] == CHART_YAML["sources"][0] == CHART_YAML["home"]
    assert CHART_YAML["maintainers"]
    crds = {
        yaml.safe_load(path.read_text())["metadata"]["name"]
        for path in (CHART / "files" / "crds").glob("*.yaml")
    }
    assert {crd["name"] for crd in yaml.safe_load(annotations["artifacthub.io/crds"])} == crds


@pytest.fixture(scope="module")
def notes_cluster(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    with LocalCluster(toolchain, tmp_path_factory.mktemp("notes-cluster"), nodes=1) as started:
        yield started


@pytest.mark.parametrize("values", [(), ("crds.install=false", "watchNamespaces={shop}")])
def test_the_release_notes_hold_commands_that_work_as_written(
    toolchain: Toolchain, notes_cluster: LocalCluster, values: tuple[str, ...]
) -> None:
    notes = helm(
        toolchain, "install", "slokeeper", str(CHART), "-n", "slokeeper-system",
        "--create-namespace", "--dry-run=server",
        *[arg for value in values for arg in ("--set", value)],
        kubeconfig=notes_cluster.kubeconfig,
    ).stdout.split("NOTES:", 1)[1]  # fmt: skip
    assert "…" not in notes
    assert "example" not in notes
    version = CHART_YAML["appVersion"]
    prefix = f"https://raw.githubusercontent.com/slokeeper/slokeeper/v{version}/"
    urls = [word for word in notes.split() if word.startswith("https://")]
    assert urls
    for url in urls:
        assert url.startswith(prefix), url
        assert (REPO / url.removeprefix(prefix)).is_file(), f"{url}: no such file in the repo"
    assert "helm test slokeeper -n slokeeper-system" in notes


def _hook(toolchain: Toolchain) -> dict[str, Any]:
    (pod,) = objects(rendered(toolchain, show_only=HOOK))
    return pod


def test_the_helm_test_pod_runs_locked_down_like_the_operator(toolchain: Toolchain) -> None:
    pod = _hook(toolchain)
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    deployment = next(o for o in objects(rendered(toolchain)) if o["kind"] == "Deployment")
    operator_pod = deployment["spec"]["template"]["spec"]
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert spec["securityContext"] == operator_pod["securityContext"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in spec
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"] == operator_pod["containers"][0]["securityContext"]
    assert container["image"] == operator_pod["containers"][0]["image"]
    assert container["resources"]["limits"]["memory"]
    assert container["command"][-2:] == [
        "http://slokeeper-metrics.slokeeper-system.svc:8080/metrics",
        "SLOKEEPER_METRICS",  # the kubelet's SLOKEEPER_METRICS_SERVICE_HOST/_PORT
    ]


def _run_hook_command(
    pod: dict[str, Any], url: str, within: str, service_links: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The hook container's command, run here as its image would run it, pointed at ``url``
    (its DNS name), with the variables the kubelet would set for the namespace's Services."""
    (container,) = pod["spec"]["containers"]
    command = [*container["command"][:-2], url, container["command"][-1]]
    assert command[0] == "python3"
    environment = {variable["name"]: variable["value"] for variable in container["env"]}
    environment["ANSWER_WITHIN_SECONDS"] = within
    environment.update(service_links or {})
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_helm_test_command_passes_against_a_running_operator_and_fails_without_one(
    toolchain: Toolchain,
    cluster: LocalCluster,
    crds_installed: Path,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    pod = _hook(toolchain)
    nobody = f"http://127.0.0.1:{free_port()}/metrics"
    failed = _run_hook_command(pod, nobody, within="2")
    assert failed.returncode != 0
    assert f"{nobody}: no operator answered within 2 s" in failed.stderr
    with running_operator(
        cluster.kubeconfig, prometheus.url, tmp_path / "operator.log",
        namespaces=("helm-test-*",),
    ) as operator:  # fmt: skip
        passed = _run_hook_command(pod, operator.metrics_url, within="30")
        # In a Pod, the Service's address from the kubelet's variables (no cluster DNS needed).
        port = operator.metrics_url.split(":")[-1].split("/")[0]
        links = {
            "SLOKEEPER_METRICS_SERVICE_HOST": "127.0.0.1",
            "SLOKEEPER_METRICS_SERVICE_PORT": port,
        }
        linked = _run_hook_command(pod, "http://unresolvable.invalid/metrics", "30", links)
    assert passed.returncode == 0, passed.stderr
    assert "answers with the operator's metrics" in passed.stdout
    assert linked.returncode == 0, linked.stderr
    assert f"http://127.0.0.1:{port}/metrics answers" in linked.stdout
