"""Turn Sloth and Pyrra SLO definitions into ServiceLevelObjectives, reporting every field that
has no equivalent (never dropping one silently).

Sloth: ``prometheus/v1`` spec files and ``PrometheusServiceLevel`` objects (sloth.slok.dev/v1).
Pyrra: ``ServiceLevelObjective`` objects (pyrra.dev/v1alpha1). Queries keep their ``{{.window}}``
placeholder (Sloth uses the same one); Pyrra's metric selectors are wrapped in
``sum(rate(…[{{.window}}]))`` as Pyrra itself does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slokeeper.api.base import API_VERSION

SLOTH_DEFAULT_WINDOW = "30d"  # sloth's default SLO period
PYRRA_DEFAULT_WINDOW = "28d"


@dataclass
class Converted:
    """What came out of one source document."""

    slos: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # "path: why", one per field left behind


def _slo(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _dns_name(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63]


# --- Sloth -------------------------------------------------------------------------------------


def _sloth_key(entry: dict[str, Any], snake: str) -> Any:
    """Sloth spec files are snake_case, its CRD camelCase."""
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)
    return entry.get(snake, entry.get(camel))


def convert_sloth(document: dict[str, Any], namespace: str) -> Converted:
    out = Converted()
    if document.get("kind") == "PrometheusServiceLevel":
        namespace = document.get("metadata", {}).get("namespace", namespace)
        spec = document.get("spec", {})
        where = "spec."
    else:
        spec, where = document, ""
    service = spec.get("service", "")
    common_labels = dict(spec.get("labels") or {})
    for index, entry in enumerate(spec.get("slos") or []):
        path = f"{where}slos[{index}]"
        indicator = _sloth_indicator(entry.get("sli") or {}, path, out)
        if indicator is None:
            continue
        alerting = _sloth_alerting(
            entry.get("alerting") or {}, {**common_labels, **(entry.get("labels") or {})}, path, out
        )
        slo_spec: dict[str, Any] = {
            "service": service,
            "target": float(entry["objective"]),
            "window": {"rolling": SLOTH_DEFAULT_WINDOW},
            "indicator": indicator,
            "alerting": alerting,
        }
        if entry.get("description"):
            slo_spec["description"] = entry["description"]
        out.slos.append(_slo(namespace, _dns_name(f"{service}-{entry['name']}"), slo_spec))
    return out


def _sloth_indicator(sli: dict[str, Any], path: str, out: Converted) -> dict[str, Any] | None:
    events = sli.get("events")
    if events:
        return {
            "ratio": {
                "errors": _sloth_key(events, "error_query"),
                "total": _sloth_key(events, "total_query"),
            }
        }
    if sli.get("raw"):
        out.unmapped.append(
            f"{path}.sli.raw: an error-ratio query alone has no equivalent (slokeeper needs "
            "errors and total queries, to count requests); this SLO was not converted"
        )
    elif sli.get("plugin"):
        out.unmapped.append(
            f"{path}.sli.plugin: Sloth SLI plugins have no equivalent; this SLO was not converted"
        )
    return None


def _sloth_alerting(
    alerting: dict[str, Any], labels: dict[str, str], path: str, out: Converted
) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    if alerting.get("name"):
        # Sloth names its page and ticket alerts alike (told apart by severity): routes match it.
        converted["names"] = {"page": alerting["name"], "ticket": alerting["name"]}
    if labels or alerting.get("labels"):
        converted["labels"] = {**labels, **(alerting.get("labels") or {})}
    if alerting.get("annotations"):
        converted["annotations"] = dict(alerting["annotations"])
    severity: dict[str, str] = {}
    disabled = []
    for kind, key in (("page", "page_alert"), ("ticket", "ticket_alert")):
        alert = _sloth_key(alerting, key) or {}
        if alert.get("disable"):
            disabled.append(kind)
        alert_labels = dict(alert.get("labels") or {})
        if "severity" in alert_labels:
            severity[kind] = alert_labels.pop("severity")
        for label in sorted(alert_labels):
            out.unmapped.append(
                f"{path}.alerting.{key}.labels.{label}: labels of only the {kind} alert have no "
                "equivalent (alerting.labels go on both)"
            )
        if alert.get("annotations"):
            out.unmapped.append(
                f"{path}.alerting.{key}.annotations: annotations of only the {kind} alert have no "
                "equivalent"
            )
    if severity:
        converted["severity"] = severity
    if len(disabled) == 2:
        converted["enabled"] = False
    elif disabled:
        out.unmapped.append(
            f"{path}.alerting.{disabled[0]}_alert.disable: one alert cannot be turned off alone; "
            "both stay on"
        )
    return converted


# --- Pyrra -------------------------------------------------------------------------------------

_SELECTOR = re.compile(r"^(?P<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<matchers>.*)\})?$")


def _rate(selector: str) -> str:
    return f"sum(rate({selector}[{{{{.window}}}}]))"


def convert_pyrra(document: dict[str, Any], namespace: str) -> Converted:
    out = Converted()
    meta = document.get("metadata", {})
    spec = document.get("spec", {})
    indicator = spec.get("indicator") or {}
    converted_indicator: dict[str, Any] | None = None
    if "ratio" in indicator:
        ratio = indicator["ratio"]
        converted_indicator = {
            "ratio": {
                "errors": _rate(ratio["errors"]["metric"]),
                "total": _rate(ratio["total"]["metric"]),
            }
        }
        if ratio.get("grouping"):
            out.unmapped.append(
                "spec.indicator.ratio.grouping: one SLO per label value has no equivalent; "
                "the SLO covers all of them together"
            )
    elif "latency" in indicator:
        converted_indicator = _pyrra_latency(indicator["latency"], out)
    elif "bool_gauge" in indicator:
        gauge = indicator["bool_gauge"]
        # Pyrra counts each series' samples; "1 - avg" of the series at each evaluation is the same.
        converted_indicator = {"freshness": {"boolGauge": gauge["metric"]}}
        if gauge.get("grouping"):
            out.unmapped.append(
                "spec.indicator.bool_gauge.grouping: one SLO per label value has no equivalent; "
                "the SLO covers all of them together"
            )
    else:
        kinds = ", ".join(sorted(indicator)) or "none"
        out.unmapped.append(
            f"spec.indicator ({kinds}): no equivalent indicator kind; this SLO was not converted"
        )
    if converted_indicator is None:
        return out
    alerting = spec.get("alerting") or {}
    slo_spec: dict[str, Any] = {
        "service": meta.get("labels", {}).get("app.kubernetes.io/name", meta.get("name", "")),
        "target": float(spec["target"]),
        "window": {"rolling": spec.get("window", PYRRA_DEFAULT_WINDOW)},
        "indicator": converted_indicator,
    }
    if spec.get("description"):
        slo_spec["description"] = spec["description"]
    if alerting.get("disabled"):
        slo_spec["alerting"] = {"enabled": False}
    if alerting.get("name"):
        # Pyrra names every burn-rate alert alike (told apart by severity): routes match it.
        names = {"page": alerting["name"], "ticket": alerting["name"]}
        slo_spec["alerting"] = {**slo_spec.get("alerting", {}), "names": names}
    if alerting.get("absent") is not None:
        out.unmapped.append("spec.alerting.absent: absent-metric alerts are not generated")
    out.slos.append(
        _slo(meta.get("namespace", namespace), _dns_name(meta.get("name", "slo")), slo_spec)
    )
    return out


def _pyrra_latency(latency: dict[str, Any], out: Converted) -> dict[str, Any] | None:
    match = _SELECTOR.match(latency["success"]["metric"].strip())
    if match is None or not match.group("metric").endswith("_bucket"):
        out.unmapped.append(
            "spec.indicator.latency.success.metric: not a histogram bucket selector; "
            "this SLO was not converted"
        )
        return None
    matchers = [m.strip() for m in (match.group("matchers") or "").split(",") if m.strip()]
    le = [m for m in matchers if re.match(r'^le\s*=\s*"', m)]
    if len(le) != 1:
        out.unmapped.append(
            'spec.indicator.latency.success.metric: needs exactly one le="…" matcher; '
            "this SLO was not converted"
        )
        return None
    threshold = float(le[0].split("=", 1)[1].strip().strip('"'))
    return {
        "latency": {
            "metric": match.group("metric").removesuffix("_bucket"),
            "selector": ",".join(m for m in matchers if m not in le),
            "threshold": threshold,
        }
    }


# --- OpenSLO -----------------------------------------------------------------------------------

CALENDAR_DURATIONS = {"1M": "Month", "1w": "Week", "7d": "Week"}


def convert_openslo(
    document: dict[str, Any], namespace: str, slis: dict[str, dict[str, Any]]
) -> Converted:
    """One OpenSLO v1 ``SLO``; ``slis`` are the ``SLI`` documents its indicatorRef may name."""
    out = Converted()
    if document.get("kind") != "SLO":
        return out  # SLI and AlertPolicy documents are read through the SLOs that use them
    meta, spec = document.get("metadata", {}), document.get("spec", {})
    indicator_spec = (spec.get("indicator") or {}).get("spec")
    if indicator_spec is None and spec.get("indicatorRef"):
        indicator_spec = (slis.get(spec["indicatorRef"]) or {}).get("spec")
        if indicator_spec is None:
            out.unmapped.append(
                f"spec.indicatorRef: SLI {spec['indicatorRef']!r} is in none of the files given; "
                "this SLO was not converted"
            )
            return out
    indicator = _openslo_indicator(indicator_spec or {}, out)
    window = _openslo_window(spec.get("timeWindow") or [], out)
    objectives = spec.get("objectives") or []
    if indicator is None or window is None or not objectives:
        if not objectives:
            out.unmapped.append("spec.objectives: none given; this SLO was not converted")
        return out
    first = objectives[0]
    target = first.get("targetPercent")
    target = float(target) if target is not None else 100 * float(first["target"])
    for index in range(1, len(objectives)):
        out.unmapped.append(
            f"spec.objectives[{index}]: one target per SLO; convert it as an SLO of its own"
        )
    if spec.get("budgetingMethod", "Occurrences") != "Occurrences":
        out.unmapped.append(
            f"spec.budgetingMethod: {spec['budgetingMethod']} has no equivalent; the budget "
            "counts occurrences (events)"
        )
    for index, policy in enumerate(spec.get("alertPolicies") or []):
        name = policy if isinstance(policy, str) else policy.get("metadata", {}).get("name", "")
        out.unmapped.append(
            f"spec.alertPolicies[{index}] ({name}): burn-rate alerts are generated from the "
            "SLO's window (Google SRE Workbook table); the policy is not converted"
        )
    slo_spec: dict[str, Any] = {
        "service": spec.get("service", ""),
        "target": round(target, 6),
        "window": window,
        "indicator": indicator,
    }
    if spec.get("description"):
        slo_spec["description"] = spec["description"]
    out.slos.append(_slo(namespace, _dns_name(meta.get("name", "slo")), slo_spec))
    return out


def _openslo_query(part: dict[str, Any]) -> str:
    source = part["metricSource"]
    if str(source.get("type", "")).lower() != "prometheus":
        raise ValueError(f"metric source {source.get('type')!r} is not Prometheus")
    return str(source["spec"]["query"]).strip()


def _openslo_indicator(spec: dict[str, Any], out: Converted) -> dict[str, Any] | None:
    ratio = spec.get("ratioMetric")
    if ratio is None:
        kinds = ", ".join(sorted(spec)) or "none"
        out.unmapped.append(
            f"SLI spec ({kinds}): only ratioMetric has an equivalent; this SLO was not converted"
        )
        return None
    if not ratio.get("counter", False):
        out.unmapped.append(
            "SLI ratioMetric.counter: false: pre-aggregated values leave no window to fill; "
            "this SLO was not converted"
        )
        return None
    try:
        converted = {"total": _rate(_openslo_query(ratio["total"]))}
        if "bad" in ratio:
            converted["errors"] = _rate(_openslo_query(ratio["bad"]))
        else:
            converted["good"] = _rate(_openslo_query(ratio["good"]))
    except (KeyError, ValueError) as error:
        out.unmapped.append(f"SLI ratioMetric: {error}; this SLO was not converted")
        return None
    return {"ratio": converted}


def _openslo_window(windows: list[dict[str, Any]], out: Converted) -> dict[str, Any] | None:
    if not windows:
        return {"rolling": PYRRA_DEFAULT_WINDOW}
    window = windows[0]
    if window.get("isRolling", False):
        return {"rolling": window["duration"]}
    period = CALENDAR_DURATIONS.get(window.get("duration", ""))
    if period is None:
        out.unmapped.append(
            f"spec.timeWindow[0].duration: a calendar {window.get('duration')!r} has no "
            "equivalent (Month or Week); this SLO was not converted"
        )
        return None
    calendar = window.get("calendar") or {}
    if calendar.get("startTime"):
        out.unmapped.append(
            "spec.timeWindow[0].calendar.startTime: periods start at the calendar month or week "
            "in the time zone; the start time is not kept"
        )
    return {"calendar": period, "timeZone": calendar.get("timeZone", "UTC")}
