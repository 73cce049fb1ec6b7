"""User story: in a cluster with the prometheus-operator, an SLO's rules land in a PrometheusRule
that the real PrometheusRule schema accepts, owned by the SLO."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from polling import eventually
from promtool import promtool
from running_operator import running_operator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.prometheus import PrometheusServer
from slokeeper.localcluster.toolchain import Toolchain

ROOT = Path(__file__).resolve().parents[2]


def test_rules_go_into_a_prometheusrule_when_that_api_is_served(
    toolchain: Toolchain, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    with LocalCluster(toolchain, tmp_path / "cluster") as cluster:
        cluster.kubectl("apply", "--server-side", "-f", str(toolchain.prometheus_rule_crd))
        cluster.kubectl("apply", "-f", str(ROOT / "crds"))
        cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        cluster.kubectl("apply", "-f", str(ROOT / "manifests" / "samples" / "slo-ratio.yaml"))
        with running_operator(cluster.kubeconfig, prometheus.url, tmp_path / "operator.log"):
            found = eventually(
                lambda: cluster.kubectl(
                    "get", "prometheusrule", "checkout-availability-slo", "-o", "json", check=False
                ),
                lambda done: done.returncode == 0,
                "the PrometheusRule of the sample SLO",
            )
            status = eventually(
                lambda: json.loads(
                    cluster.kubectl("get", "slo", "checkout-availability", "-o", "json").stdout
                ).get("status", {}),
                lambda seen: "rules" in seen,
                "the SLO's status to name its rules object",
            )
        rule = json.loads(found.stdout)
        assert status["rules"]["kind"] == "PrometheusRule"
        assert rule["metadata"]["ownerReferences"][0]["kind"] == "ServiceLevelObjective"
        assert rule["spec"]["groups"][0]["name"] == "slokeeper-default-checkout-availability"
        rule_file = tmp_path / "rules.yaml"
        rule_file.write_text(yaml.safe_dump(rule["spec"]))
        checked = promtool(toolchain.promtool, "check", "rules", str(rule_file))
        assert checked.returncode == 0, checked.stdout + checked.stderr
