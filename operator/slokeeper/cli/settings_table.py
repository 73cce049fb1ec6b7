"""Every setting of ``slokeeper run`` in one table: flag, environment variable (how the Helm chart
sets it), default, parser and help. ``slokeeper run``'s parser and the Prometheus option group of
every command that queries Prometheus are built from these rows, and so is README's configuration
table: ``python -m slokeeper.cli.settings_table README.md`` rewrites it (a unit test checks it).

Not here on purpose: ``POD_NAMESPACE`` (the Pod's namespace from the Downward API, read when
``--leader-election-namespace`` is not given) and ``SLOKEEPER_TEST_CRASH_AFTER`` (test fault
injection, ``handlers.fault_injection``), which are not settings a user chooses.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from slokeeper.cli.setting import Kind, Setting
from slokeeper.handlers.rollout_pool import DEFAULT_CONCURRENCY
from slokeeper.prometheus.query_params import Dedup, PartialResponse, QueryParam, parse_query_param
from slokeeper.slo.durations import duration_seconds
from slokeeper.transport.response_limit import parse_size


def query_param(text: str) -> QueryParam:
    try:
        return parse_query_param(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def duration(text: str) -> str:
    """A duration as every flag takes one: ``60s``, ``5m``, ``1h`` (Prometheus' format); a bare
    number is seconds, as ``--timeout 1800`` always meant. Refused on the command line, where the
    typo is, rather than when the value is first used."""
    spoken = f"{text}s" if text.isdigit() else text
    try:
        duration_seconds(spoken)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return spoken


def choices(enum: type[PartialResponse] | type[Dedup]) -> str:
    return "|".join(member.value for member in enum)


PROMETHEUS_URL = "--prometheus-url"

PROMETHEUS_SETTINGS: tuple[Setting, ...] = (
    Setting(
        (PROMETHEUS_URL,),
        "SLOKEEPER_PROMETHEUS_URL",
        "Prometheus-compatible query API",
        default="http://prometheus:9090",
        chart="`prometheus.url`",
        chart_default="http://prometheus-operated.monitoring.svc:9090",
    ),
    Setting(
        ("--prometheus-timeout",),
        "SLOKEEPER_PROMETHEUS_TIMEOUT",
        "per-query timeout: the whole answer, retries included",
        default="10s",
        parse=duration,
        chart="`prometheus.timeout`",
    ),
    Setting(
        ("--prometheus-max-response-size",),
        "SLOKEEPER_PROMETHEUS_MAX_RESPONSE_SIZE",
        "the largest answer read from Prometheus (e.g. 64MiB, 500MB); the read stops there and "
        "a larger answer is reported as Prometheus not answering",
        default="64MiB",
        parse=size,
        metavar="SIZE",
        chart="`prometheus.maxResponseSize`",
    ),
    Setting(
        ("--prometheus-bearer-token-file",),
        "SLOKEEPER_PROMETHEUS_BEARER_TOKEN_FILE",
        "file holding a bearer token, re-read when it changes",
        parse=Path,
        chart="`prometheus.bearerToken.secretName`, `.key`",
        doc="a token file (chart: mounted from the Secret), re-read when it changes",
    ),
    Setting(
        ("--prometheus-basic-auth-username",),
        "SLOKEEPER_PROMETHEUS_BASIC_AUTH_USERNAME",
        "basic auth user; exclusive with a bearer token",
        chart="`prometheus.basicAuth.secretName`, `.usernameKey`",
    ),
    Setting(
        ("--prometheus-basic-auth-password-file",),
        "SLOKEEPER_PROMETHEUS_BASIC_AUTH_PASSWORD_FILE",
        "file holding the basic auth password",
        parse=Path,
        chart="`prometheus.basicAuth.secretName`, `.passwordKey`",
        doc="the basic auth password (chart: mounted from the Secret)",
    ),
    Setting(
        ("--prometheus-ca-file",),
        "SLOKEEPER_PROMETHEUS_CA_FILE",
        "CA bundle for a Prometheus served over TLS",
        parse=Path,
        shown_default="system CAs",
        chart="`prometheus.ca.configMapName` or `.secretName`, `.key`",
    ),
    Setting(
        ("--prometheus-partial-response",),
        "SLOKEEPER_PROMETHEUS_PARTIAL_RESPONSE",
        "whether Thanos Query or VictoriaMetrics cluster may answer from the stores that "
        "answered when some fail: deny sends partial_response=false and "
        "deny_partial_response=1, so no SLO is computed from part of its series; allow sends "
        "the opposite; backend-default sends neither",
        default=PartialResponse.DENY.value,
        metavar=choices(PartialResponse),
        chart="`prometheus.partialResponse`",
        doc="Thanos / VictoriaMetrics partial answers "
        "([scale-out backends](#scale-out-query-backends))",
    ),
    Setting(
        ("--prometheus-dedup",),
        "SLOKEEPER_PROMETHEUS_DEDUP",
        "Thanos Query's deduplication of HA replicas: on sends dedup=true, off dedup=false, "
        "backend-default neither",
        default=Dedup.ON.value,
        metavar=choices(Dedup),
        chart="`prometheus.dedup`",
    ),
    Setting(
        ("--prometheus-query-param",),
        "SLOKEEPER_PROMETHEUS_QUERY_PARAMS",
        "one more query parameter sent with every query (e.g. max_source_resolution=0s); it "
        "replaces a parameter of the same name set by the two flags above",
        parse=query_param,
        kind=Kind.LIST,
        metavar="KEY=VALUE",
        shown_default="none",
        flag_replaces_env=True,
        chart="`prometheus.queryParams`",
        doc="more parameters on every query",
    ),
)

OPERATOR_SETTINGS: tuple[Setting, ...] = (
    Setting(
        ("--alertmanager-url",),
        "SLOKEEPER_ALERTMANAGER_URL",
        "Alertmanager whose silences cover SLO maintenance windows; unset: windows are "
        "tracked, nothing is silenced",
        chart="`alertmanager.url`",
        doc="where [maintenance windows](#maintenance-windows) are silenced; unset: windows "
        "are tracked in status, nothing is silenced",
    ),
    Setting(
        ("-n", "--namespace"),
        "SLOKEEPER_NAMESPACES",
        "watch only this namespace or glob",
        kind=Kind.LIST,
        shown_default="all namespaces",
        chart="`watchNamespaces`",
        doc="namespaces (or globs) whose SLOs and ChangeRollouts are managed; the chart then "
        "grants Roles there only",
    ),
    Setting(
        ("--interval",),
        "SLOKEEPER_INTERVAL",
        "how often every SLO is evaluated",
        default="30s",
        parse=duration,
        chart="`interval`",
    ),
    Setting(
        ("--rollout-concurrency",),
        "SLOKEEPER_ROLLOUT_CONCURRENCY",
        "how many ChangeRollouts are ticked at once (one rollout's ticks never overlap)",
        default=str(DEFAULT_CONCURRENCY),
        parse=positive_int,
        chart="`rolloutConcurrency`",
    ),
    Setting(
        ("--log-format",),
        "SLOKEEPER_LOG_FORMAT",
        "text, or one JSON object per line",
        default="text",
        choices=("text", "json"),
        chart="`logFormat`",
        chart_default="json",
        doc="`json`: one object per line (`time`, `level`, `logger`, `message`, `exception`)",
    ),
    Setting(
        ("--leader-elect",),
        "SLOKEEPER_LEADER_ELECT",
        "act only while holding a Lease, so several replicas are safe",
        kind=Kind.SWITCH,
        chart="`leaderElection.enabled`",
        chart_default="true",
    ),
    Setting(
        ("--leader-election-id",),
        "SLOKEEPER_LEADER_ELECTION_ID",
        "name of the Lease",
        default="slokeeper",
        chart="`leaderElection.leaseName`",
    ),
    Setting(
        ("--leader-election-namespace",),
        "SLOKEEPER_LEADER_ELECTION_NAMESPACE",
        "namespace of the Lease",
        shown_default="the Pod's own ($POD_NAMESPACE, which the chart sets from the Downward API)",
    ),
    Setting(
        ("--metrics-port",),
        "SLOKEEPER_METRICS_PORT",
        "port of the operator's /metrics (0: off)",
        default="8080",
        parse=int,
        chart="`metrics.port`",
    ),
    Setting(
        ("--health-port",),
        "SLOKEEPER_HEALTH_PORT",
        "port of /healthz (event loop beating, and no loop stalled: 503 naming a held SLO cycle"
        " or rollout tick) and /readyz (leading and started, or standing by and reading the"
        " Lease) (0: off)",
        default="8081",
        parse=int,
        chart="`health.port`",
    ),
    Setting(
        ("--bind-address",),
        "SLOKEEPER_BIND_ADDRESS",
        "address the metrics and health ports listen on (all, as in a Pod)",
        default="0.0.0.0",  # noqa: S104 - a Pod's own network namespace
    ),
    Setting(
        ("--no-slo-metrics",),
        "SLOKEEPER_NO_SLO_METRICS",
        "do not export per-SLO budget and burn-rate gauges, for very many SLOs",
        kind=Kind.SWITCH,
        chart="`sloMetrics: false`",
    ),
    Setting(
        ("--kubeconfig",),
        "KUBECONFIG",
        "kubeconfig file, for credentials outside a Pod",
        shown_default="in-cluster",
    ),
    Setting(
        ("--clock-start",),
        "SLOKEEPER_CLOCK_START",
        "rehearsal: rollout decisions run on a clock starting at this RFC 3339 time (to try "
        "change windows and freezes)",
        parse=datetime.fromisoformat,
        shown_default="the real time",
    ),
    Setting(("--verbose",), None, "debug logging", kind=Kind.SWITCH),
)

RUN_SETTINGS: tuple[Setting, ...] = PROMETHEUS_SETTINGS + OPERATOR_SETTINGS


def prometheus_settings(default_url: str) -> tuple[Setting, ...]:
    """The Prometheus rows, with this command's default URL."""
    return tuple(
        dataclasses.replace(row, default=default_url) if PROMETHEUS_URL in row.flags else row
        for row in PROMETHEUS_SETTINGS
    )


def setting(flag: str) -> Setting:
    return next(row for row in RUN_SETTINGS if flag in row.flags)


# README's configuration table: this header, then one row per setting.
README_HEADER = (
    "| flag | environment | chart value | default | meaning |",
    "|---|---|---|---|---|",
)


def markdown_table() -> list[str]:
    return [*README_HEADER, *(row.markdown_row() for row in RUN_SETTINGS)]


def readme_with_table(text: str) -> str:
    """README's text with its configuration table rendered afresh from the rows."""
    lines = text.split("\n")
    start = lines.index(README_HEADER[0])
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join([*lines[:start], *markdown_table(), *lines[end:]])


def main(argv: Sequence[str]) -> int:
    """Rewrite README's configuration table in place: ``python -m slokeeper.cli.settings_table
    README.md``."""
    (readme,) = (Path(path) for path in argv)
    readme.write_text(readme_with_table(readme.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
