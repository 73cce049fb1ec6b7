"""Part 4 of the peers bench: what the same 1,000 SLOs cost Prometheus as Sloth's rules and as
slokeeper's (issue 18).

The SLOs: N Sloth specs (prometheus/v1), one service each, 99.9 % over 30 days on
``http_requests_total{service=…,code=…}``, page and ticket alerts. Sloth's rules come from
``sloth generate`` (v0.16.0, built by the toolchain); slokeeper's from the same specs as a user
moving over gets them: ``slokeeper import sloth`` then ``slokeeper rules``. Both read the same
synthetic series: a local exporter serves one 200 and one 500 counter per service (0.1 % errors),
with HISTORY hours backfilled by promtool so the long windows read real samples.

One Prometheus 3.16 per run, evaluation interval 30 s, everything scraped every 15 s:
  both       the two sets in separate rule files: rules, series and evaluation time per SLO
  sloth      Sloth's alone, slokeeper  ours alone, none  no rules: RSS and head series of each
Evaluation time is ``prometheus_rule_group_last_duration_seconds`` summed over a set's groups and
averaged over the run's last 4 rounds (Timing): wall time, so groups evaluated at once on a busy
machine each count the others' work too; Prometheus' CPU (``process_cpu_seconds_total``) over the
same rounds, beyond the run without rules, is the cost per round.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from slokeeper.localcluster.prometheus import PrometheusServer, ScrapeJob
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.metrics_endpoint import metrics_endpoint

REQUESTS_PER_SECOND = 10.0  # per service
ERROR_SHARE = 0.001


@dataclass(frozen=True)
class Timing:
    """How often Prometheus evaluates and scrapes, and how many rounds a run waits for."""

    evaluation_seconds: int = 30
    scrape_seconds: int = 15
    evaluations: int = 4  # rounds every group must have evaluated before figures are read


BENCH = Timing()
STEP_SECONDS = 60  # resolution of the backfilled history
SETS = {"sloth": "sloth-rules.yaml", "slokeeper": "slokeeper-rules.yaml"}


def sloth_specs(count: int) -> list[dict[str, Any]]:
    """N Sloth specs of the same shape, one service each."""
    specs = []
    for index in range(count):
        service = f"svc-{index:04d}"
        selector = f'service="{service}"'
        specs.append(
            {
                "version": "prometheus/v1",
                "service": service,
                "labels": {"owner": f"team-{index % 20}"},
                "slos": [
                    {
                        "name": "availability",
                        "objective": 99.9,
                        "sli": {
                            "events": {
                                "error_query": "sum(rate(http_requests_total"
                                f'{{{selector},code=~"5.."}}[{{{{.window}}}}]))',
                                "total_query": "sum(rate(http_requests_total"
                                f"{{{selector}}}[{{{{.window}}}}]))",
                            }
                        },
                        "alerting": {
                            "name": f"Svc{index:04d}HighErrorRate",
                            "page_alert": {"labels": {"severity": "page"}},
                            "ticket_alert": {"labels": {"severity": "ticket"}},
                        },
                    }
                ],
            }
        )
    return specs


def render_rules(toolchain: Toolchain, count: int, workdir: Path) -> dict[str, Path]:
    """Both rule files from the same specs, each as its tool's user gets it."""
    specs = workdir / "sloth-specs.yaml"
    specs.write_text(yaml.safe_dump_all(sloth_specs(count), sort_keys=False))
    rules = {name: workdir / file for name, file in SETS.items()}
    _run([str(toolchain.sloth), "generate", "-i", str(specs), "-o", str(rules["sloth"])])
    # Sloth writes one document per spec; Prometheus reads only a rule file's first document.
    documents = yaml.safe_load_all(rules["sloth"].read_text())
    merged = [group for document in documents if document for group in document["groups"]]
    rules["sloth"].write_text(yaml.safe_dump({"groups": merged}, sort_keys=False))
    slokeeper = [sys.executable, "-m", "slokeeper.cli.main"]
    slos = workdir / "slokeeper-slos.yaml"
    slos.write_text(_run([*slokeeper, "import", "sloth", str(specs), "-n", "bench"]))
    rules["slokeeper"].write_text(_run([*slokeeper, "rules", str(slos)]))
    return rules


def _run(command: list[str]) -> str:
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _counter(seconds: float, share: float) -> float:
    return round(REQUESTS_PER_SECOND * share * seconds, 3)


def _exposition(count: int, seconds: float) -> str:
    lines = ["# TYPE http_requests_total counter"]
    for index in range(count):
        service = f"svc-{index:04d}"
        for code, share in (("200", 1 - ERROR_SHARE), ("500", ERROR_SHARE)):
            value = _counter(seconds, share)
            lines.append(f'http_requests_total{{service="{service}",code="{code}"}} {value}')
    return "\n".join(lines) + "\n"


def exporter(count: int, origin: float) -> AbstractContextManager[str]:
    """The services' counters as they stand now, counted from ``origin`` (a Unix time)."""
    return metrics_endpoint(lambda _path: _exposition(count, time.time() - origin))


@dataclass(frozen=True)
class History:
    """The services' counters from ``origin`` (Unix time) as TSDB blocks made by promtool."""

    count: int
    origin: float
    blocks: Path


def backfill(toolchain: Toolchain, count: int, hours: float, workdir: Path) -> History:
    end = time.time()
    origin = end - hours * 3600
    text = workdir / "history.om"
    with text.open("w") as out:
        out.write("# TYPE http_requests counter\n")
        for index in range(count):
            for code, share in (("200", 1 - ERROR_SHARE), ("500", ERROR_SHARE)):
                labels = f'{{service="svc-{index:04d}",code="{code}"}}'
                for at in range(int(origin), int(end), STEP_SECONDS):
                    out.write(f"http_requests_total{labels} {_counter(at - origin, share)} {at}\n")
        out.write("# EOF\n")
    blocks = workdir / "blocks"
    promtool = [str(toolchain.promtool), "tsdb", "create-blocks-from", "openmetrics"]
    _run([*promtool, str(text), str(blocks)])
    text.unlink()
    return History(count, origin, blocks)


@dataclass
class Figures:
    """What one run measured; set figures are per SLO, None where the run had no such set."""

    rules: dict[str, float]
    series: dict[str, float]
    evaluation_ms: dict[str, float]
    rss_mib: float
    head_series: float
    cpu_cores: float  # Prometheus' CPU over the measured rounds
    missed: float  # evaluation rounds skipped because the previous one ran too long


def _query(url: str, promql: str) -> float:
    answer = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=30).json()
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def _group_filter(file: str) -> str:
    return f'rule_group=~".*/{file};.*"'


def _evaluated(url: str, files: list[str], rounds: int) -> bool:
    """Every group of these files evaluated ``rounds`` times, and Prometheus scraped itself since
    (its own metrics are read through its own scrapes)."""
    return (
        all(
            _query(url, f"min(prometheus_rule_group_iterations_total{{{_group_filter(f)}}})")
            >= rounds
            for f in files
        )
        and _query(url, 'count(up{job="prometheus"})') > 0
    )


def measure(url: str, count: int, sets: list[str], timing: Timing) -> Figures:
    files = [SETS[name] for name in sets]
    began = time.monotonic()
    deadline, rounds = began + 900, timing.evaluations + 1
    # The run without rules waits as long too, so every RSS is read after the same uptime.
    while time.monotonic() - began < rounds * timing.evaluation_seconds or not _evaluated(
        url, files, rounds
    ):
        if time.monotonic() > deadline:
            raise SystemExit(f"Prometheus at {url} did not evaluate {files} often enough")
        time.sleep(timing.scrape_seconds / 3)
    window = f"{timing.evaluations * timing.evaluation_seconds}s"
    figures = Figures({}, {}, {}, 0.0, 0.0, 0.0, 0.0)
    for name in sets:
        where = _group_filter(SETS[name])
        figures.rules[name] = _query(url, f"sum(prometheus_rule_group_rules{{{where}}})") / count
        figures.series[name] = (
            _query(url, f"sum(prometheus_rule_group_last_evaluation_samples{{{where}}})") / count
        )
        spent = _query(
            url,
            f"sum(avg_over_time(prometheus_rule_group_last_duration_seconds{{{where}}}[{window}]))",
        )
        figures.evaluation_ms[name] = spent * 1000 / count
    figures.rss_mib = _query(url, "max_over_time(process_resident_memory_bytes[1m])") / 2**20
    figures.head_series = _query(url, "prometheus_tsdb_head_series")
    cpu = f'process_cpu_seconds_total{{job="prometheus"}}[{window}]'
    figures.cpu_cores = _query(url, f"rate({cpu})")
    figures.missed = _query(url, "sum(prometheus_rule_group_iterations_missed_total)")
    return figures


def one_run(
    toolchain: Toolchain, history: History, rules: dict[str, Path], sets: list[str], timing: Timing
) -> Figures:
    """A fresh Prometheus with the history, the exporter and the named rule sets."""
    workdir = history.blocks.parent / ("run-" + "-".join(sets or ["none"]))
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "data").mkdir(parents=True)
    for block in history.blocks.iterdir():
        if block.is_dir():
            shutil.copytree(block, workdir / "data" / block.name)
    with exporter(history.count, history.origin) as target:
        server = PrometheusServer(
            toolchain.prometheus,
            workdir,
            scrape_interval=f"{timing.scrape_seconds}s",
            evaluation_interval=f"{timing.evaluation_seconds}s",
            jobs=[ScrapeJob("services", (target,))],
            rule_files=[rules[name] for name in sets],
            retention="30d",
            startup_timeout=600,
        )
        server.jobs.append(ScrapeJob("prometheus", (server.url.removeprefix("http://"),)))
        with server:
            return measure(server.url, history.count, sets, timing)


RUNS = {"both": ["sloth", "slokeeper"], "sloth": ["sloth"], "slokeeper": ["slokeeper"], "none": []}


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


def report(count: int, figures: dict[str, Figures], timing: Timing) -> None:
    both = figures["both"]
    print(f"\nrule cost of {count} SLOs (per SLO; ratio slokeeper / Sloth)")
    print(f"  {'':28} {'Sloth':>10} {'slokeeper':>10} {'ratio':>7}")
    for label, table in (
        ("rules", both.rules),
        ("recorded series (samples)", both.series),
        ("evaluation ms (same run)", both.evaluation_ms),
    ):
        theirs, ours = table["sloth"], table["slokeeper"]
        print(f"  {label:28} {theirs:10.2f} {ours:10.2f} {_ratio(ours, theirs):>7}")
    base = figures["none"]
    print(
        f"  Prometheus alone (no rules): RSS {base.rss_mib:.0f} MiB, {base.head_series:.0f} series"
    )
    for name in ("sloth", "slokeeper"):
        run = figures[name]
        print(
            f"  {name:10} alone: RSS {run.rss_mib:.0f} MiB (+{run.rss_mib - base.rss_mib:.0f}), "
            f"{run.head_series:.0f} head series (+{run.head_series - base.head_series:.0f}), "
            f"evaluation {run.evaluation_ms[name]:.2f} ms per SLO"
        )
    print(f"  Prometheus without rules: CPU {base.cpu_cores:.2f} cores")
    for name in ("sloth", "slokeeper"):
        run = figures[name]
        per_round = (run.cpu_cores - base.cpu_cores) * timing.evaluation_seconds * 1000 / count
        print(
            f"  {name:10} alone: CPU {run.cpu_cores:.2f} cores, {per_round:.2f} CPU-ms per SLO "
            f"per evaluation round, {run.missed:.0f} rounds missed"
        )
    sloth, ours = figures["sloth"], figures["slokeeper"]
    print(
        "  ratio alone: RSS added "
        f"{_ratio(ours.rss_mib - base.rss_mib, sloth.rss_mib - base.rss_mib)}, head series added "
        f"{_ratio(ours.head_series - base.head_series, sloth.head_series - base.head_series)}, "
        f"CPU added {_ratio(ours.cpu_cores - base.cpu_cores, sloth.cpu_cores - base.cpu_cores)}"
    )


def run(
    toolchain: Toolchain, count: int, hours: float, workdir: Path, timing: Timing = BENCH
) -> dict[str, Figures]:
    """Every run of this part, printed as it ends, then the table."""
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    rules = render_rules(toolchain, count, workdir)
    history = backfill(toolchain, count, hours, workdir)
    print(
        f"rules rendered and {hours:g} h of history backfilled in {time.monotonic() - began:.0f}s"
    )
    figures: dict[str, Figures] = {}
    for name, sets in RUNS.items():
        began = time.monotonic()
        figures[name] = one_run(toolchain, history, rules, sets, timing)
        print(f"  run {name}: {figures[name]} ({time.monotonic() - began:.0f}s)", flush=True)
    report(count, figures, timing)
    return figures
