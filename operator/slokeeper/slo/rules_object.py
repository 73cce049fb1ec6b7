"""What the SLO loop is told when its rules object cannot be written because the name is taken:
a ConfigMap or PrometheusRule of that name exists and is not the SLO's own (the adapter never
overwrites it; the loop says so on the SLO and tries again each cycle)."""

from __future__ import annotations


class RulesObjectTakenError(RuntimeError):
    """An object of the rules object's name exists and is not the SLO's own: left alone."""
