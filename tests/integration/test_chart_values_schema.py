"""User story: an SRE mistypes a value; ``helm install`` (and ``helm template``) refuses it with a
message naming the value, instead of installing an operator configured otherwise than they meant.
The schema is charts/slokeeper/values.schema.json, generated from values.yaml."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helm import CHART, helm
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain

MISTAKES = [
    ("replicaCount=two", "at '/replicaCount': got string, want integer"),
    ("replicas=2", "additional properties 'replicas' not allowed"),
    ("prometheus.ulr=http://prometheus:9090", "at '/prometheus': additional properties 'ulr'"),
    ("logFormat=xml", "at '/logFormat'"),
    ("image.pullPolicy=Sometimes", "at '/image/pullPolicy'"),
    ("prometheus.url=prometheus:9090", "at '/prometheus/url'"),
    ("interval=30", "at '/interval': got number, want string"),
]
IDS = [
    "a-word-for-a-number",
    "an-unknown-top-level-key",
    "a-misspelt-nested-key",
    "a-log-format-it-does-not-have",
    "a-pull-policy-kubernetes-does-not-have",
    "a-url-without-its-scheme",
    "a-duration-without-its-unit",
]


def _template(toolchain: Toolchain, value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(toolchain.helm), "template", "slokeeper", str(CHART),
         "--kube-version", toolchain.kubernetes_version, "--set", value],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(("value", "message"), MISTAKES, ids=IDS)
def test_helm_template_refuses_a_mistyped_value_naming_it(
    toolchain: Toolchain, value: str, message: str
) -> None:
    refused = _template(toolchain, value)
    assert refused.returncode != 0
    assert "values don't meet the specifications of the schema" in refused.stderr
    assert message in refused.stderr, refused.stderr


def test_the_values_that_are_meant_pass(toolchain: Toolchain) -> None:
    for value in (
        "replicaCount=2",
        "interval=30s",
        "prometheus.url=https://thanos-query.monitoring:9090",
        "podAnnotations.team=payments",
        "global.imageRegistry=registry.example",
    ):
        passed = _template(toolchain, value)
        assert passed.returncode == 0, f"{value}: {passed.stderr}"


@pytest.fixture(scope="module")
def cluster(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    with LocalCluster(toolchain, tmp_path_factory.mktemp("schema-cluster"), nodes=1) as started:
        yield started


def test_helm_install_refuses_a_misspelt_value_and_installs_nothing(
    toolchain: Toolchain, cluster: LocalCluster, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("replicaCount: 1\nleaderElection:\n  enable: false\n")
    refused = subprocess.run(
        [str(toolchain.helm), "install", "slokeeper", str(CHART), "--namespace", "slokeeper-system",
         "--create-namespace", "-f", str(values), "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "at '/leaderElection': additional properties 'enable' not allowed" in refused.stderr
    releases = helm(toolchain, "list", "-A", "-q", kubeconfig=cluster.kubeconfig).stdout
    assert releases.strip() == ""
    assert "slokeeper.dev" not in cluster.kubectl("get", "crd", "-o", "name").stdout
