"""Which of the recorded series Prometheus answers are the operator's own, and what they say.

The batched read asks only for series without ``job`` and ``instance`` labels
(``RULE_OUTPUT``): Prometheus gives every series it scrapes both labels, from the target, while a
recording rule's output over ``sum()`` has neither. So a tenant's exporter publishing
``slokeeper_slo_error_ratio{slo_namespace="victim",…}`` is not read. That holds for every scrape
whose config does not honour the exporter's own labels: with ``honor_labels: true`` (in the
Prometheus Operator: a ServiceMonitor's ``honorLabels``, unless the Prometheus sets
``overrideHonorLabels``) an exporter that publishes ``job=""`` and ``instance=""`` loses both
labels. What is left to such a series is caught here where it can be:

* a series whose labels do not parse (no ``slo``/``slo_namespace``, a ``window`` that is not a
  duration) is skipped, counted and logged once, and the cycle goes on;
* a series with a ``namespace`` label other than its ``slo_namespace`` is skipped (the Prometheus
  Operator's ``enforcedNamespaceLabel`` marks a tenant's series, and rules, with its own
  namespace, and the operator writes an SLO's rules in the SLO's namespace);
* two series for the same SLO, metric and window make that SLO's recorded figures ambiguous: they
  are not used, and the reader computes its figures from the SLO's own queries instead.

A copy with exactly the labels of an SLO's own series is the same series to Prometheus, and
cannot be told apart by any reader: keeping honor_labels from tenants closes that one.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from slokeeper.prometheus.client import Sample
from slokeeper.slo.durations import duration_seconds
from slokeeper.slo.rules import ERROR_RATIO, REQUESTS_PER_SECOND

log = logging.getLogger(__name__)

Key = tuple[str, str]
RULE_OUTPUT = 'job="",instance=""'
RECORDED_QUERY = f'{{__name__=~"{ERROR_RATIO}|{REQUESTS_PER_SECOND}",{RULE_OUTPUT}}}'
_LOGGED_AT_MOST = 100


@dataclass
class Recorded:
    """One SLO's recorded figures: error ratio per window (seconds), and the hourly rate."""

    window_ratios: dict[float, float] = field(default_factory=dict)
    requests_per_second: float | None = None
    # (metric, window) already seen, to notice a second series for the same figure.
    seen: set[tuple[str, float | None]] = field(default_factory=set)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class RecordedSeries:
    """Sorts the answer of ``RECORDED_QUERY`` into figures per SLO; keeps count of what it
    skipped across cycles (``skipped``) and logs each kind of skipped series once."""

    def __init__(self) -> None:
        self.skipped = 0
        self._logged: set[str] = set()

    def figures(self, samples: Iterable[Sample]) -> tuple[dict[Key, Recorded], set[Key]]:
        """Figures per SLO, and the SLOs whose recorded figures are ambiguous (not to be used)."""
        recorded: dict[Key, Recorded] = defaultdict(Recorded)
        ambiguous: set[Key] = set()
        for sample in samples:
            parsed = self._parse(sample.labels)
            if parsed is None:
                continue
            key, name, window = parsed
            figures = recorded[key]
            if (name, window) in figures.seen:
                ambiguous.add(key)
                self._skip(sample.labels, f"a second series for SLO {key[0]}/{key[1]}")
                continue
            figures.seen.add((name, window))
            value = _finite(sample.value)
            if name == REQUESTS_PER_SECOND:
                figures.requests_per_second = value
            elif window is not None and value is not None:
                figures.window_ratios[window] = value
        return {k: v for k, v in recorded.items() if k not in ambiguous}, ambiguous

    def _parse(self, labels: dict[str, str]) -> tuple[Key, str, float | None] | None:
        name = labels.get("__name__", "")
        namespace, slo = labels.get("slo_namespace", ""), labels.get("slo", "")
        if name not in (ERROR_RATIO, REQUESTS_PER_SECOND) or not namespace or not slo:
            self._skip(labels, "not the series of an SLO")
            return None
        if labels.get("namespace", namespace) != namespace:
            self._skip(labels, "its namespace label is not its slo_namespace")
            return None
        window: float | None = None
        if "window" in labels:
            try:
                window = duration_seconds(labels["window"])
            except (ValueError, OverflowError, ArithmeticError):
                self._skip(labels, "its window is not a duration")
                return None
        elif name == ERROR_RATIO:
            self._skip(labels, "an error ratio without a window")
            return None
        return (namespace, slo), name, window

    def _skip(self, labels: dict[str, str], why: str) -> None:
        self.skipped += 1
        shown = "{" + ", ".join(f"{k}={v!r}" for k, v in sorted(labels.items())) + "}"
        if len(self._logged) < _LOGGED_AT_MOST and shown not in self._logged:
            self._logged.add(shown)
            log.warning("skipped the recorded series %s: %s", shown, why)
