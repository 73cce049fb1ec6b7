"""Query parameters for scale-out backends (Thanos Query, VictoriaMetrics), sent with every query.

Prometheus' own API takes ``query``, ``time``, ``start``, ``end``, ``step`` and ``timeout``; the
backends that put many Prometheus servers behind one query API add parameters of their own and
ignore each other's (and Prometheus ignores them all), so one set can be sent to any backend.

Partial responses. Thanos Query (``--query.partial-response``, on by default) and VictoriaMetrics
cluster (``-search.denyPartialResponse``, off by default) answer with whatever the reachable
stores returned when some of them fail. An SLO computed from part of its series is wrong without
saying so: a lost store that held the 5xx series makes a burning service look healthy. slokeeper
therefore denies partial responses unless told otherwise (``partial_response=false`` for Thanos,
``deny_partial_response=1`` for VictoriaMetrics cluster): a backend that cannot answer in full
fails the query, and the SLO says ``PrometheusUnreachable`` instead of showing wrong figures.

Deduplication. Thanos Query merges series that differ only in a replica label (an HA pair of
Prometheus servers) when ``dedup=true``, its default. The operator needs one series per SLO and
window (its queries match them one-to-one), so slokeeper asks for it explicitly. VictoriaMetrics
deduplicates on the server (``-dedup.minScrapeInterval``), not per query.

Anything else a backend takes (``max_source_resolution``, ``replicaLabels``, ``extra_label``,
``nocache`` …) is passed as it is given; a parameter given explicitly replaces a named setting's
parameter of the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

QueryParam = tuple[str, str]

# Set by the client itself on each request; a user's value would silently fight it.
RESERVED = frozenset({"query", "time", "start", "end", "step", "timeout"})


class PartialResponse(StrEnum):
    DENY = "deny"
    ALLOW = "allow"
    BACKEND_DEFAULT = "backend-default"  # send nothing: the backend's own setting applies


class Dedup(StrEnum):
    ON = "on"
    OFF = "off"
    BACKEND_DEFAULT = "backend-default"


PARTIAL_RESPONSE_PARAMS: dict[PartialResponse, tuple[QueryParam, ...]] = {
    PartialResponse.DENY: (("partial_response", "false"), ("deny_partial_response", "1")),
    PartialResponse.ALLOW: (("partial_response", "true"), ("deny_partial_response", "0")),
    PartialResponse.BACKEND_DEFAULT: (),
}
DEDUP_PARAMS: dict[Dedup, tuple[QueryParam, ...]] = {
    Dedup.ON: (("dedup", "true"),),
    Dedup.OFF: (("dedup", "false"),),
    Dedup.BACKEND_DEFAULT: (),
}


def check_query_params(params: Iterable[QueryParam]) -> None:
    for key, _ in params:
        if not key:
            raise ValueError("a query parameter needs a name")
        if key in RESERVED:
            raise ValueError(f"query parameter {key!r} is slokeeper's own to set on each query")


def parse_query_param(text: str) -> QueryParam:
    """``KEY=VALUE`` (the value may hold ``=``: ``extra_label=team=shop``)."""
    key, separator, value = text.strip().partition("=")
    if not separator:
        raise ValueError(f"query parameter {text!r} is not KEY=VALUE")
    param = (key.strip(), value)
    check_query_params([param])
    return param


def parse_query_params(text: str) -> tuple[QueryParam, ...]:
    """Comma-separated ``KEY=VALUE`` items, as the environment variable holds them."""
    return tuple(parse_query_param(item) for item in text.split(",") if item.strip())


def backend_query_params(
    partial_response: PartialResponse = PartialResponse.DENY,
    dedup: Dedup = Dedup.ON,
    extra: Sequence[QueryParam] = (),
) -> tuple[QueryParam, ...]:
    """What every query carries: the named settings' parameters, then the explicit ones (which
    replace a named setting's parameter of the same name; a name may repeat among them)."""
    check_query_params(extra)
    explicit = {key for key, _ in extra}
    named = (*PARTIAL_RESPONSE_PARAMS[partial_response], *DEDUP_PARAMS[dedup])
    return (*(param for param in named if param[0] not in explicit), *extra)
