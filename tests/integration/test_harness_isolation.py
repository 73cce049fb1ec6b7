"""User story: two developers (or a developer and CI) run the tests on one machine at once, and a
broken component tells them what went wrong instead of hanging."""

from __future__ import annotations

from pathlib import Path

import pytest

from promtool import promtool
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.processes import StartError
from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob


def test_a_second_session_gets_its_own_cluster(cluster: LocalCluster, tmp_path: Path) -> None:
    cluster.kubectl("create", "namespace", "only-in-the-first")
    with LocalCluster(cluster.toolchain, tmp_path / "second") as second:
        assert second.name != cluster.name
        assert second.kubeconfig.read_text() != cluster.kubeconfig.read_text()
        namespaces = second.kubectl("get", "namespaces", "-o", "name").stdout.split()
        assert "namespace/only-in-the-first" not in namespaces
        assert "namespace/default" in namespaces
    # Stopping the second leaves the first running.
    assert cluster.kubectl("get", "namespace", "only-in-the-first").returncode == 0


def test_prometheus_that_cannot_start_fails_with_its_log(
    prometheus: PrometheusServer, tmp_path: Path
) -> None:
    broken = PrometheusServer(
        prometheus.binary,
        tmp_path / "broken",
        jobs=[ScrapeJob("twice", ("127.0.0.1:1",)), ScrapeJob("twice", ("127.0.0.1:2",))],
    )
    with pytest.raises(StartError) as failed:
        broken.start()
    assert "Prometheus exited with code" in str(failed.value)
    assert 'found multiple scrape configs with job name \\"twice\\"' in str(failed.value)


def test_the_scrape_configuration_we_write_passes_promtool(prometheus: PrometheusServer) -> None:
    checked = promtool(
        prometheus.binary.with_name("promtool"), "check", "config", str(prometheus.config_file)
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
