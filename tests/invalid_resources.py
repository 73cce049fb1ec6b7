"""Invalid resources, each with the field the refusal must name and the words it must contain.

The same table drives three tests, so the API server (kubectl's YAML to JSON, the CRD schema and
CEL rules), the pydantic models with the schema's JSON types (what ``slokeeper validate`` runs) and
validate's report can never disagree on what is invalid:
``tests/unit/api/test_invalid_resources.py``, ``tests/unit/cli/test_validate.py`` and
``tests/integration/test_crds_on_the_api_server.py``. A case marked ``validate_only`` is what the
API server cannot know (a time zone no zone database has): that test checks it is admitted, and
the others that validate refuses it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SAMPLES = Path(__file__).resolve().parent.parent / "manifests" / "samples"

Resource = dict[str, Any]


def sample(name: str) -> Resource:
    loaded: Resource = yaml.safe_load((SAMPLES / name).read_text())
    return loaded


@dataclass(frozen=True)
class InvalidCase:
    id: str
    sample: str
    change: Callable[[Resource], None]
    field: str
    message: str
    api_message: str | None = None
    by_cel: bool = True
    # kubectl and the API server refuse a NaN or an Infinity anywhere while turning the YAML into
    # JSON, before any schema: their words then name no field.
    api_names_field: bool = True
    # What the API server cannot know (it has no zone database): it admits the resource, only
    # ``slokeeper validate`` refuses it, and the operator holds every change it would guard.
    validate_only: bool = False

    def resource(self) -> Resource:
        resource = copy.deepcopy(sample(self.sample))
        resource["metadata"]["name"] = "invalid-" + self.id.replace(" ", "-")[:40].rstrip("-")
        self.change(resource)
        return resource

    @property
    def expected_api_message(self) -> str:
        return self.api_message or self.message


def _set(path: str, value: Any) -> Callable[[Resource], None]:
    def change(resource: Resource) -> None:
        *parents, leaf = path.split(".")
        node = resource
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if leaf.isdigit():
            node[int(leaf)] = value
        else:
            node[leaf] = value

    return change


def _delete(path: str) -> Callable[[Resource], None]:
    def change(resource: Resource) -> None:
        *parents, leaf = path.split(".")
        node = resource
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[leaf]

    return change


RATIO, LATENCY, CALENDAR, FRESHNESS, ROLLOUT, MAINTENANCE = (
    "slo-ratio.yaml",
    "slo-latency.yaml",
    "slo-calendar.yaml",
    "slo-freshness.yaml",
    "changerollout.yaml",
    "maintenancewindow.yaml",
)

LABEL_NAMES = "label names must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with __"
RESERVED_LABELS = (
    "label names alertname, namespace, slo, slo_namespace, service, window, severity and "
    "slokeeper_alert are reserved: slokeeper and Prometheus set them on every alert"
)
READS_SERIES = "values must not call query: an alert's template may show its own labels and value"

# Alert label and annotation templates, and whether each reads series (calls query): the API
# server, the models and the operator's rule check must all say the same.
QUERY_TEMPLATES = [
    ("payments", False),
    ("{{ $labels.slo }} query latency", False),
    ('{{ query "up" }}', True),
    ('{{query "up"}}', True),
    ('{{- query "up" -}}', True),
    ('{{ "up" | query }}', True),
    ('{{ "up" |query}}', True),
    ('{{ (query "up") }}', True),
    ('{{ with query "up" }}{{ . | first | value }}{{ end }}', True),
    ('{{ printf "%s" "x" | query | first | value }}', True),
    ('{{ "}}" | query }}', True),
    ('{{ $x := "a" }}{{$y:=query $x}}', True),
    ('{{ if true }}\n{{ query\n"up" }}{{ end }}', True),
    ('text {{ range query "up" }}{{ .Labels }}{{ end }}', True),
    ("{{ $labels.query }}", False),
    ('{{ "query" }}', False),
    ("{{ 'q' }} query", False),
    ("{{ `query` }}", False),
    ('{{ "\\" query" }}', False),
    ("{{/* query */}}", False),
    ("{{ $value | humanize }}", False),
]

INVALID_CASES = [
    # One per CEL rule.
    InvalidCase(
        "an SLO with both a ratio and a latency indicator",
        RATIO,
        _set(
            "spec.indicator.latency", {"metric": "http_request_duration_seconds", "threshold": 0.3}
        ),
        "spec.indicator",
        "set exactly one indicator kind: ratio, latency or freshness",
    ),
    InvalidCase(
        "a maintenance window that ends before it starts",
        MAINTENANCE,
        _set("spec.end", "2026-12-06T01:00:00Z"),
        "spec.end",
        "end must be after start",
    ),
    InvalidCase(
        "a maintenance window on an slo without a reason",
        RATIO,
        _set(
            "spec.maintenance",
            [{"start": "2026-12-06T02:00:00Z", "end": "2026-12-06T04:00:00Z", "reason": ""}],
        ),
        "spec.maintenance[0].reason",
        "at least 1 character",
        api_message="spec.maintenance[0].reason in body should be at least 1 chars long",
        by_cel=False,
    ),
    InvalidCase(
        "a freshness SLO with both a timestamp and a lag",
        FRESHNESS,
        _set("spec.indicator.freshness.lag", "max(etl_lag_seconds)"),
        "spec.indicator.freshness",
        "set exactly one freshness source: timestamp, lag or boolGauge",
    ),
    InvalidCase(
        "a freshness lag without a threshold",
        FRESHNESS,
        lambda r: r["spec"]["indicator"].update(freshness={"lag": "max(etl_lag_seconds)"}),
        "spec.indicator.freshness.threshold",
        "threshold is required with timestamp or lag, and not allowed with boolGauge",
        api_message="threshold is required with timestamp or lag",
    ),
    InvalidCase(
        "a bool gauge with a threshold",
        FRESHNESS,
        lambda r: r["spec"]["indicator"].update(
            freshness={"boolGauge": "etl_fresh", "threshold": "15m"}
        ),
        "spec.indicator.freshness.threshold",
        "threshold is required with timestamp or lag, and not allowed with boolGauge",
        api_message="not allowed with boolGauge",
    ),
    InvalidCase(
        "a freshness query with a window placeholder",
        FRESHNESS,
        _set("spec.indicator.freshness.timestamp", "max_over_time(etl_ts[{{.window}}])"),
        "spec.indicator.freshness.timestamp",
        "a freshness query is an instant query",
    ),
    InvalidCase(
        "an SLO with both a rolling and a calendar window",
        RATIO,
        _set("spec.window", {"rolling": "28d", "calendar": "Month"}),
        "spec.window",
        "set exactly one of rolling or calendar",
    ),
    InvalidCase(
        "a rolling window with a time zone",
        RATIO,
        _set("spec.window", {"rolling": "28d", "timeZone": "Europe/Berlin"}),
        "spec.window.timeZone",
        "timeZone applies to calendar windows only",
    ),
    InvalidCase(
        "a ratio with both errors and good",
        CALENDAR,
        _set("spec.indicator.ratio.errors", "sum(rate(errors_total[{{.window}}]))"),
        "spec.indicator.ratio",
        "set exactly one of errors or good",
    ),
    InvalidCase(
        "a total query without the window placeholder",
        RATIO,
        _set("spec.indicator.ratio.total", "sum(rate(http_requests_total[5m]))"),
        "spec.indicator.ratio.total",
        "{{.window}} placeholder",
    ),
    InvalidCase(
        "budget policy thresholds listed lowest first",
        RATIO,
        _set(
            "spec.budgetPolicy.thresholds",
            [
                {"belowPercent": 0, "action": "freeze"},
                {"belowPercent": 25, "action": "requireApproval"},
            ],
        ),
        "spec.budgetPolicy.thresholds",
        "from the highest belowPercent to the lowest",
    ),
    InvalidCase(
        "a burn-rate row whose short window is the longer one",
        RATIO,
        _set(
            "spec.alerting.burnRates",
            [{"kind": "page", "longWindow": "5m", "shortWindow": "1h", "burnRate": 14.4}],
        ),
        "spec.alerting.burnRates[0].shortWindow",
        "shortWindow must be shorter than longWindow",
    ),
    InvalidCase(
        "canary weights that do not increase",
        ROLLOUT,
        _set("spec.steps", [{"weight": 25}, {"weight": 5}]),
        "spec.steps",
        "step weights must strictly increase",
    ),
    InvalidCase(
        "a metric check without min or max",
        ROLLOUT,
        _set("spec.analysis.checks", [{"name": "p99", "query": "vector(1)"}]),
        "spec.analysis.checks[0]",
        "set min, max or both",
    ),
    InvalidCase(
        "a metric check whose min exceeds its max",
        ROLLOUT,
        _set("spec.analysis.checks", [{"name": "p99", "query": "vector(1)", "min": 2, "max": 1}]),
        "spec.analysis.checks[0].min",
        "min must not exceed max",
    ),
    InvalidCase(
        "a change window that opens and closes at once",
        ROLLOUT,
        _set("spec.gates.changeWindows", [{"days": ["Tue"], "start": "02:00", "end": "02:00"}]),
        "spec.gates.changeWindows[0].end",
        "start and end must differ",
    ),
    InvalidCase(
        "a freeze that ends before it starts",
        ROLLOUT,
        _set(
            "spec.gates.freezes",
            [{"start": "2026-12-24T00:00:00Z", "end": "2026-12-20T00:00:00Z"}],
        ),
        "spec.gates.freezes[0].end",
        "end must be after start",
    ),
    # Bounds a sane SLO keeps (issue 22): each used to pass and stop every SLO's cycle, or
    # Prometheus' whole rule reload.
    InvalidCase(
        "a rolling window of 0s",
        RATIO,
        _set("spec.window", {"rolling": "0s"}),
        "spec.window.rolling",
        "a window must be at least 1m and at most 1y",
    ),
    InvalidCase(
        "a rolling window of 10000y",
        RATIO,
        _set("spec.window", {"rolling": "10000y"}),
        "spec.window.rolling",
        "a window must be at least 1m and at most 1y",
    ),
    InvalidCase(
        "a rolling window of a year and a day",
        RATIO,
        _set("spec.window", {"rolling": "1y1d"}),
        "spec.window.rolling",
        "a window must be at least 1m and at most 1y",
    ),
    InvalidCase(
        "a burn-rate row with a 0s long window",
        RATIO,
        _set(
            "spec.alerting.burnRates",
            [{"kind": "page", "longWindow": "0s", "shortWindow": "5m", "burnRate": 14.4}],
        ),
        "spec.alerting.burnRates[0].longWindow",
        "a burn-rate window must be at least 1m and at most 1y",
    ),
    InvalidCase(
        "a burn-rate row with a sub-second short window",
        RATIO,
        _set(
            "spec.alerting.burnRates",
            [{"kind": "page", "longWindow": "1h", "shortWindow": "500ms", "burnRate": 14.4}],
        ),
        "spec.alerting.burnRates[0].shortWindow",
        "a burn-rate window must be at least 1m and at most 1y",
    ),
    InvalidCase(
        "a forecast window of 0s",
        RATIO,
        _set("spec.alerting.forecast", {"enabled": True, "window": "0s"}),
        "spec.alerting.forecast.window",
        "a forecast window must be at least 1m and at most 1y",
    ),
    InvalidCase(
        "a forecast that must hold for 10000y",
        RATIO,
        _set("spec.alerting.forecast", {"enabled": True, "for": "10000y"}),
        "spec.alerting.forecast.for",
        "for must be at most 1y",
    ),
    InvalidCase(
        "an alert label with an empty name",
        RATIO,
        _set("spec.alerting.labels", {"": "payments"}),
        "spec.alerting.labels",
        LABEL_NAMES,
    ),
    InvalidCase(
        "an alert label named __name__",
        RATIO,
        _set("spec.alerting.labels", {"__name__": "up"}),
        "spec.alerting.labels",
        LABEL_NAMES,
    ),
    InvalidCase(
        "an alert label with a dash in its name",
        RATIO,
        _set("spec.alerting.labels", {"team-name": "payments"}),
        "spec.alerting.labels",
        LABEL_NAMES,
    ),
    InvalidCase(
        "an alert label slokeeper sets itself",
        RATIO,
        _set("spec.alerting.labels", {"team": "payments", "slo_namespace": "kube-system"}),
        "spec.alerting.labels",
        RESERVED_LABELS,
    ),
    # Issue 23, point 7: a tenant's alert may not be routed as another namespace's, nor read
    # another namespace's series.
    InvalidCase(
        "an alert label namespace naming another tenant",
        RATIO,
        _set("spec.alerting.labels", {"namespace": "payments"}),
        "spec.alerting.labels",
        RESERVED_LABELS,
    ),
    InvalidCase(
        "an alert label alertname",
        RATIO,
        _set("spec.alerting.labels", {"alertname": "KubeAPIDown"}),
        "spec.alerting.labels",
        RESERVED_LABELS,
    ),
    InvalidCase(
        "an alert annotation whose template reads another namespace",
        RATIO,
        _set(
            "spec.alerting.annotations",
            {"note": "{{ with query \"secret_total{namespace='payments'}\" }}{{ . }}{{ end }}"},
        ),
        "spec.alerting.annotations",
        "annotation " + READS_SERIES,
    ),
    InvalidCase(
        "an alert label whose template reads series",
        RATIO,
        _set("spec.alerting.labels", {"team": '{{ "up" | query | first | label "team" }}'}),
        "spec.alerting.labels",
        "label " + READS_SERIES,
    ),
    InvalidCase(
        "an alert annotation with an empty name",
        RATIO,
        _set("spec.alerting.annotations", {"": "x"}),
        "spec.alerting.annotations",
        "annotation names must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with __",
    ),
    InvalidCase(
        "a target of 0 percent",
        RATIO,
        _set("spec.target", 0),
        "spec.target",
        "greater than 0",
        by_cel=False,
    ),
    # The schema alone refuses these.
    InvalidCase(
        "a target of 100 percent",
        RATIO,
        _set("spec.target", 100),
        "spec.target",
        "less than 100",
        by_cel=False,
    ),
    # Issue 23, point 9: what JSON cannot carry, and JSON types, as kubectl and the API server
    # say them (pydantic's lax mode read "99.9" as a number, and called NaN "less than 100").
    InvalidCase(
        "a target given as the string 99.9",
        RATIO,
        _set("spec.target", "99.9"),
        "spec.target",
        'must be of type number: "string"',
        by_cel=False,
    ),
    InvalidCase(
        "a target given as the string NaN",
        RATIO,
        _set("spec.target", "NaN"),
        "spec.target",
        'must be of type number: "string"',
        by_cel=False,
    ),
    InvalidCase(
        "a target of NaN",
        RATIO,
        _set("spec.target", float("nan")),
        "spec.target",
        "json: unsupported value: NaN",
        by_cel=False,
        api_names_field=False,
    ),
    InvalidCase(
        "a burn rate of infinity",
        RATIO,
        _set(
            "spec.alerting.burnRates",
            [{"kind": "page", "longWindow": "1h", "shortWindow": "5m", "burnRate": float("inf")}],
        ),
        "spec.alerting.burnRates[0].burnRate",
        "json: unsupported value: +Inf",
        by_cel=False,
        api_names_field=False,
    ),
    InvalidCase(
        "a canary weight given as a string",
        ROLLOUT,
        _set("spec.steps.0.weight", "5"),
        "spec.steps[0].weight",
        'must be of type integer: "string"',
        by_cel=False,
    ),
    InvalidCase(
        "a latency threshold of zero",
        LATENCY,
        _set("spec.indicator.latency.threshold", 0),
        "spec.indicator.latency.threshold",
        "greater than 0",
        by_cel=False,
    ),
    InvalidCase(
        "a canary step at 100 percent",
        ROLLOUT,
        _set("spec.steps.2.weight", 100),
        "spec.steps[2].weight",
        "less than 100",
        by_cel=False,
    ),
    InvalidCase(
        "an unknown risk level",
        ROLLOUT,
        _set("spec.risk", "Critical"),
        "spec.risk",
        "'Low', 'Medium' or 'High'",
        api_message='supported values: "Low", "Medium", "High"',
        by_cel=False,
    ),
    InvalidCase(
        "a ChangeRollout without a target",
        ROLLOUT,
        _delete("spec.targetRef"),
        "spec.targetRef",
        "Field required",
        api_message="Required value",
        by_cel=False,
    ),
    # Issue 23, point 1: a window or an interval of nothing made every tick fail while a bad
    # canary kept serving; a deadline of 0 rolled back every canary, one of days kept a stuck one.
    InvalidCase(
        "an analysis window of 0s",
        ROLLOUT,
        _set("spec.analysis.window", "0s"),
        "spec.analysis.window",
        "analysis.window must be at least 10s and at most 1d",
    ),
    InvalidCase(
        "an analysis window of 1ms",
        ROLLOUT,
        _set("spec.analysis.window", "1ms"),
        "spec.analysis.window",
        "analysis.window must be at least 10s and at most 1d",
    ),
    InvalidCase(
        "an analysis interval of 0s",
        ROLLOUT,
        _set("spec.analysis.interval", "0s"),
        "spec.analysis.interval",
        "analysis.interval must be at least 1s and at most 1h",
    ),
    InvalidCase(
        "a progress deadline of 0s",
        ROLLOUT,
        _set("spec.progressDeadline", "0s"),
        "spec.progressDeadline",
        "progressDeadline must be at least 10s and at most 1d",
    ),
    InvalidCase(
        "a progress deadline of 2d",
        ROLLOUT,
        _set("spec.progressDeadline", "2d"),
        "spec.progressDeadline",
        "progressDeadline must be at least 10s and at most 1d",
    ),
    # Issue 23, point 3: CEL cannot list the zones. The pattern refuses what cannot be a zone
    # name; a name no zone has is refused here and held by the operator (InvalidSpec).
    InvalidCase(
        "a time zone no zone database knows",
        ROLLOUT,
        _set("spec.gates.timeZone", "Mars/Olympus"),
        "spec.gates.timeZone",
        "unknown time zone 'Mars/Olympus'",
        by_cel=False,
        validate_only=True,
    ),
    InvalidCase(
        "an approval role nobody can fill",
        ROLLOUT,
        _set("spec.gates.approval.roles.0", {"name": "on-call"}),
        "spec.gates.approval.roles[0]",
        "a role needs groups or users",
    ),
    InvalidCase(
        "a risk level asking for a role that is not defined",
        ROLLOUT,
        _set("spec.gates.approval.riskRoles.high", ["engineering-manager", "sre-lead"]),
        "spec.gates.approval.riskRoles",
        "every role in riskRoles must be defined in roles",
    ),
]
