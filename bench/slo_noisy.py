"""Benchmark: the SLO loop at scale over noisy traffic, and onboarding SLOs in thousands (issue 20).

Starts the local control plane and Prometheus (30 s scrape and rule evaluation), a noisy exporter
(one service per SLO, 20 requests/s each, errors at random: 0.1 % on average, 2 % for one service
in a thousand) and `slokeeper run --interval 30s` with no SLOs yet. Then onboards the SLOs in
batches applied at once (default two batches of 5,000): for each, the time from the apply to every
SLO Ready, how many times Prometheus reloaded its rules meanwhile, and the worst API server and
Prometheus readiness answer times seen while it happened. At the full count it reads noisy cycles
from the operator's log: wall time, Prometheus queries, status writes and the write rate; then the
operator's peak RSS, recording series and rule-group evaluation time per SLO, missed rule-group
iterations, and how long `slokeeper status -A` takes.

Run: .venv/bin/python bench/slo_scale.py --noisy 10000 [--batch 5000]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from noisy_traffic import NoisyTraffic, service_name
from slo_scale import CYCLE, NAMESPACE, peak_rss_mib, prometheus_query, wait_for

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.crds import install_crds
from slokeeper.kube.connection import api_client
from slokeeper.localcluster.operator_process import operator_process
from slokeeper.localcluster.prometheus import ScrapeJob
from slokeeper.localcluster.stack import LocalStack

NOISY_CYCLES = 6


def noisy_slo(index: int, burning: frozenset[int]) -> dict[str, Any]:
    """A healthy service's SLO leaves headroom (0.1 % errors against 99 % or 99.5 %: 0.1x or 0.2x
    burn); a burning one is held to 99.9 % (2 % errors: 20x, a page). A 99.9 % SLO over 0.1 %
    errors would burn at exactly 1x, on the ticket threshold, its alert flipping with each error."""
    target = 99.9 if index in burning else 99.0 if index % 2 else 99.5
    selector = f'namespace="{NAMESPACE}",service="{service_name(index)}"'
    window = "[{{.window}}]"
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": f"svc-{index:05d}", "namespace": NAMESPACE},
        "spec": {
            "service": service_name(index),
            "target": target,
            "window": {"rolling": "28d" if index % 3 else "30d"},
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{{selector},code=~"5.."}}{window}))',
                    "total": f"sum(rate(http_requests_total{{{selector}}}{window}))",
                }
            },
        },
    }


class ReadyCount:
    """How many SLOs say Ready, kept from a watch: listing 10,000 SLOs (31 MiB) every 10 s to
    count them would load the API server the bench is measuring."""

    def __init__(self, kubeconfig: Path) -> None:
        self._custom = client.CustomObjectsApi(api_client(str(kubeconfig)))
        self._ready: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        with self._lock:
            return len(self._ready)

    def stop(self) -> None:
        self._stopped.set()

    def _follow(self) -> None:
        version = ""
        while not self._stopped.is_set():
            stream = watch.Watch().stream(
                self._custom.list_namespaced_custom_object, GROUP, VERSION, NAMESPACE,
                ServiceLevelObjective.plural, resource_version=version, timeout_seconds=25,
            )  # fmt: skip
            try:
                for event in stream:
                    item = event["object"]
                    version = item["metadata"]["resourceVersion"]
                    self._note(event["type"], item)
                continue
            except ApiException as error:
                if error.status == 410:
                    version = ""  # too old: list again
                    continue
                problem = f"{error.status} {error.reason}"
            except Exception as error:  # a dropped connection, or the cluster stopping
                problem = str(error)
            if not self._stopped.is_set():
                print(f"watching SLOs: {problem}; watching again", flush=True)
                time.sleep(1)

    def _note(self, kind: str, item: dict[str, Any]) -> None:
        name = item["metadata"]["name"]
        conditions = (item.get("status") or {}).get("conditions") or []
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        with self._lock:
            if ready and kind != "DELETED":
                self._ready.add(name)
            else:
                self._ready.discard(name)


class Watcher:
    """Follows the operator's log (cycles, with the time each was seen) and the stack's health."""

    def __init__(self, log: Path, cluster: Any, prometheus_url: str) -> None:
        self.log, self.cluster, self.url = log, cluster, prometheus_url
        self.seen: list[tuple[float, tuple[int, ...]]] = []
        self.worst_api = self.worst_prometheus = 0.0
        self.ready_count = ReadyCount(cluster.kubeconfig)

    def poll(self) -> None:
        found = CYCLE.findall(self.log.read_text(errors="replace"))
        for groups in found[len(self.seen) :]:
            *counts, seconds = groups
            self.seen.append((time.monotonic(), (*map(int, counts), float(seconds))))  # type: ignore[arg-type]
        began = time.monotonic()
        self.cluster.kubectl("get", "--raw", "/readyz", check=False, timeout=60)
        self.worst_api = max(self.worst_api, time.monotonic() - began)
        began = time.monotonic()
        try:
            requests.get(f"{self.url}/-/ready", timeout=60)
        finally:
            self.worst_prometheus = max(self.worst_prometheus, time.monotonic() - began)

    def ready(self, count: int) -> int:
        return min(count, len(self.ready_count))


def burning_services(count: int) -> frozenset[int]:
    return frozenset(range(7, count, 1000))


def onboard(stack: LocalStack, watcher: Watcher, workdir: Path, first: int, count: int) -> None:
    cluster = stack.cluster
    assert cluster is not None
    assert stack.rule_sync is not None
    reloads = stack.rule_sync.reloads
    watcher.worst_api = watcher.worst_prometheus = 0.0
    manifests = workdir / f"slos-{first}.yaml"
    manifests.write_text(
        yaml.safe_dump_all(
            [noisy_slo(i, burning_services(first + count)) for i in range(first, first + count)]
        )
    )
    began = time.monotonic()
    cluster.kubectl("apply", "--server-side", "-f", str(manifests), timeout=900)
    applied = time.monotonic() - began
    total = first + count
    ready = 0
    while ready < total and time.monotonic() - began < 1800:
        time.sleep(10)
        watcher.poll()
        ready = watcher.ready(total)
        print(f"  {time.monotonic() - began:5.0f}s: {ready}/{total} SLOs Ready", flush=True)
    print(
        f"onboarding {count} SLOs onto {first}: applied in {applied:.0f}s, "
        f"{ready - first}/{count} Ready {time.monotonic() - began:.0f}s after the apply began "
        f"(target < 120s); Prometheus rule reloads meanwhile: "
        f"{stack.rule_sync.reloads - reloads}; worst answer while onboarding: API server "
        f"/readyz {watcher.worst_api:.1f}s, Prometheus /-/ready {watcher.worst_prometheus:.1f}s",
        flush=True,
    )


def noisy_cycles(watcher: Watcher, count: int) -> None:
    watcher.poll()
    start = len(watcher.seen) + 1  # the next cycle may have begun before every SLO was Ready
    wait_for(
        f"{NOISY_CYCLES} noisy cycles",
        lambda: watcher.poll() or len(watcher.seen) > start + NOISY_CYCLES,
        timeout=NOISY_CYCLES * 120,
        interval=2,
    )
    cycles = watcher.seen[start : start + NOISY_CYCLES + 1]
    for _, (slos, queries, writes, _rules, events, seconds) in cycles[1:]:
        print(
            f"noisy cycle: {slos} SLOs, {queries} Prometheus queries, {writes} status writes, "
            f"{events} events, {seconds:.2f}s wall"
        )
    writes = sum(cycle[2] for _, cycle in cycles[1:])
    elapsed = cycles[-1][0] - cycles[0][0]
    print(
        f"status writes: {writes} in {elapsed:.0f}s over {NOISY_CYCLES} noisy cycles = "
        f"{writes / elapsed:.2f} writes/s at {count} SLOs (target <= ~5/s)"
    )


def prometheus_own(url: str, metric: str) -> float:
    """The sum of one of Prometheus' own metrics, from its /metrics page."""
    own = requests.get(f"{url}/metrics", timeout=60).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in own.splitlines() if line.startswith(metric)
    )


def prometheus_cost(url: str, count: int, cpu: tuple[float, float], interval: int) -> None:
    """Series and rule-group evaluation per SLO, and the CPU Prometheus used in the noisy cycles.

    A group's evaluationTime is wall time: on a loaded machine it includes waiting for a core
    (every group runs on its own timer), so the median group, Prometheus' own CPU seconds and its
    missed iterations say more about keeping up than the sum does."""
    series = prometheus_query(
        url, "count({__name__=~'slokeeper_slo_error_ratio|slokeeper_slo_requests_per_second'})"
    )
    groups = requests.get(f"{url}/api/v1/rules", timeout=120).json()["data"]["groups"]
    times = sorted(group["evaluationTime"] for group in groups)
    missed = prometheus_own(url, "prometheus_rule_group_iterations_missed_total")
    cores = cpu[0] / cpu[1]
    print(f"recording series per SLO: {series / count:.2f}")
    print(
        f"Prometheus rule-group evaluation (wall time, one group per SLO): median "
        f"{1000 * times[len(times) // 2]:.1f} ms, slowest {1000 * times[-1]:.0f} ms, sum "
        f"{sum(times):.1f}s; missed rule-group iterations since start: {missed:.0f}"
    )
    print(
        f"Prometheus CPU during the noisy cycles: {cores:.2f} cores at a {interval}s "
        f"scrape and evaluation interval ({1000 * cores * interval / count:.1f} CPU-ms "
        f"per SLO per interval); on 2 cores it keeps up down to about "
        f"{interval * cores / 2:.0f}s"
    )


def status_all(kubeconfig: Path) -> None:
    cli = [sys.executable, "-m", "slokeeper.cli.main", "status", "-A"]
    for run in (1, 2):
        began = time.monotonic()
        shown = subprocess.run(
            [*cli, "--kubeconfig", str(kubeconfig)], capture_output=True, text=True, check=True
        )
        rows = len(shown.stdout.splitlines()) - 1
        print(f"slokeeper status -A, run {run}: {rows} SLOs in {time.monotonic() - began:.2f}s")


def run(count: int, batch: int, interval: int = 30) -> None:
    print(
        f"\n== {count} SLOs over noisy traffic, onboarded {batch} at a time, {interval}s scrape, "
        "rule evaluation and operator interval ==",
        flush=True,
    )
    burning = burning_services(count)
    with (
        tempfile.TemporaryDirectory() as directory,
        LocalStack(Path(directory), scrape_interval=f"{interval}s", rule_sync_seconds=10) as stack,
        NoisyTraffic(NAMESPACE, count, burning) as traffic,
    ):
        workdir = Path(directory)
        cluster, prometheus = stack.cluster, stack.prometheus
        assert cluster is not None
        assert prometheus is not None
        install_crds(cluster)
        cluster.kubectl("create", "namespace", NAMESPACE)
        prometheus.add_job(ScrapeJob("noisy", (traffic.address,)))
        # The services serve traffic before their SLOs arrive, as when a team writes SLOs for
        # running services (a rate over the shortest window needs two scrapes): otherwise the
        # first SLOs read directly say NoData, a Warning Event each.
        wait_for(
            "two scrapes of the noisy services",
            lambda: (
                prometheus_query(prometheus.url, 'min(count_over_time(up{job="noisy"}[10m]))') >= 2
            ),
            timeout=10 * interval,
            interval=2,
        )
        log = workdir / "operator.log"
        with operator_process(
            cluster.kubeconfig, prometheus.url, log, interval=f"{interval}s"
        ) as operator:
            watcher = Watcher(log, cluster, prometheus.url)
            for first in range(0, count, batch):
                onboard(stack, watcher, workdir, first, min(batch, count - first))
            cpu_before, began = (
                prometheus_own(prometheus.url, "process_cpu_seconds_total"),
                time.monotonic(),
            )
            noisy_cycles(watcher, count)
            cpu = prometheus_own(prometheus.url, "process_cpu_seconds_total") - cpu_before
            cpu_window = (cpu, time.monotonic() - began)
            print(f"operator peak RSS: {peak_rss_mib(operator.pid):.0f} MiB (target < 400 MiB)")
            prometheus_cost(prometheus.url, count, cpu_window, interval)
            status_all(cluster.kubeconfig)
            watcher.ready_count.stop()
