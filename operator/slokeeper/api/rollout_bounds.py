"""The durations of a ChangeRollout the API server bounds: a 0s or 1ms analysis window or
interval divides by nothing in every tick, a progress deadline of 0 rolls back every canary."""

from __future__ import annotations

from slokeeper.api.slo_bounds import bounded_duration

AnalysisInterval = bounded_duration("analysis.interval", at_least="1s", at_most="1h")
AnalysisWindow = bounded_duration("analysis.window", at_least="10s", at_most="1d")
ProgressDeadline = bounded_duration("progressDeadline", at_least="10s", at_most="1d")
