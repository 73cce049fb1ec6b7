"""The service level indicator of a ServiceLevelObjective: a ratio of events, a latency threshold
on a histogram, or the freshness of some data, with the ``{{.window}}`` placeholder their PromQL
ranges over. Each CEL rule has a pydantic validator saying the same; ``Indicator.to_indicator``
gives the core's view. Used by ``api.slo`` (the spec)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from slokeeper.api.base import Duration, ResourceModel, cel, cel_rules
from slokeeper.slo import objective
from slokeeper.slo.durations import duration_seconds

WINDOW_PLACEHOLDER = "{{.window}}"

PromQLTemplate = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        json_schema_extra=cel_rules(
            cel(
                f"self.contains('{WINDOW_PLACEHOLDER}')",
                f"the query must use the {WINDOW_PLACEHOLDER} placeholder as its range, "
                f"e.g. sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}]))",
            )
        ),
    ),
]


def _require_window_placeholder(query: str | None) -> str | None:
    if query is not None and WINDOW_PLACEHOLDER not in query:
        raise ValueError(
            f"the query must use the {WINDOW_PLACEHOLDER} placeholder as its range, "
            f"e.g. sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}]))"
        )
    return query


class RatioIndicator(ResourceModel):
    """An SLI as a ratio of events: errors (or good events) over all events."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "has(self.errors) != has(self.good)",
                "set exactly one of errors or good",
            )
        )
    }

    errors: PromQLTemplate | None = Field(
        default=None,
        description=(
            "PromQL counting bad events over {{.window}}, e.g. "
            'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}])).'
        ),
    )
    good: PromQLTemplate | None = Field(
        default=None,
        description="PromQL counting good events over {{.window}}; use instead of errors.",
    )
    total: PromQLTemplate = Field(
        description=(
            "PromQL counting all events over {{.window}}, e.g. "
            'sum(rate(http_requests_total{job="checkout"}[{{.window}}])).'
        ),
    )

    _placeholders = field_validator("errors", "good", "total")(_require_window_placeholder)

    @model_validator(mode="after")
    def _exactly_one_numerator(self) -> Self:
        if (self.errors is None) == (self.good is None):
            raise ValueError("set exactly one of errors or good")
        return self

    def to_indicator(self) -> objective.RatioIndicator:
        return objective.RatioIndicator(total=self.total, errors=self.errors, good=self.good)


class LatencyIndicator(ResourceModel):
    """An SLI from a Prometheus histogram: the share of requests faster than a threshold."""

    metric: str = Field(
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        max_length=256,
        description=(
            "Histogram base name without suffix, e.g. http_request_duration_seconds; the "
            "operator reads its _bucket and _count series."
        ),
    )
    selector: str = Field(
        default="",
        max_length=2048,
        description='Label matchers without braces, e.g. job="checkout",route!="/health".',
    )
    threshold: float = Field(
        gt=0,
        description=(
            "Requests at or below this value (in the histogram's unit, seconds for *_seconds) "
            "are good. Must be one of the histogram's bucket boundaries (an `le` value)."
        ),
    )

    def to_indicator(self) -> objective.LatencyIndicator:
        return objective.LatencyIndicator(
            metric=self.metric, threshold=self.threshold, selector=self.selector
        )


PromQLInstant = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        json_schema_extra=cel_rules(
            cel(
                f"!self.contains('{WINDOW_PLACEHOLDER}')",
                f"a freshness query is an instant query: it takes no {WINDOW_PLACEHOLDER} range",
            )
        ),
    ),
]


def _forbid_window_placeholder(query: str | None) -> str | None:
    if query is not None and WINDOW_PLACEHOLDER in query:
        raise ValueError(
            f"a freshness query is an instant query: it takes no {WINDOW_PLACEHOLDER} range"
        )
    return query


class FreshnessIndicator(ResourceModel):
    """A data-freshness SLI, e.g. "ETL output under 15 minutes old, 99 % of the time".

    Every rule evaluation is one event: bad while the data is stale. Give exactly one source:
    a timestamp or a lag gauge with a threshold, or a gauge that is already 1 when fresh and
    0 when stale (Pyrra's bool gauge).
    """

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "[has(self.timestamp), has(self.lag), has(self.boolGauge)]"
                ".filter(set, set).size() == 1",
                "set exactly one freshness source: timestamp, lag or boolGauge",
            ),
            cel(
                "has(self.threshold) == !has(self.boolGauge)",
                "threshold is required with timestamp or lag, and not allowed with boolGauge",
                ".threshold",
            ),
        )
    }

    timestamp: PromQLInstant | None = Field(
        default=None,
        description="PromQL giving the Unix time of the newest data, e.g. "
        'etl_last_success_timestamp_seconds{job="etl"}; stale when older than threshold. '
        "Several series: the newest counts.",
    )
    lag: PromQLInstant | None = Field(
        default=None,
        description="PromQL giving how far behind the data is, in seconds, e.g. "
        'kafka_consumergroup_lag_seconds{group="etl"}; stale above threshold. Several series: '
        "the largest counts.",
    )
    bool_gauge: PromQLInstant | None = Field(
        default=None,
        description="PromQL of a gauge that is 1 when fresh (good) and 0 when stale (bad). "
        "Several series: each counts for its share, as in Pyrra.",
    )
    threshold: Duration | None = Field(
        default=None, description="Data older (or further behind) than this is stale, e.g. 15m."
    )

    _instant = field_validator("timestamp", "lag", "bool_gauge")(_forbid_window_placeholder)

    def to_indicator(self) -> objective.FreshnessIndicator:
        threshold = duration_seconds(self.threshold) if self.threshold else None
        if self.timestamp is not None:
            source, query = objective.FreshnessSource.TIMESTAMP, self.timestamp
        elif self.lag is not None:
            source, query = objective.FreshnessSource.LAG, self.lag
        else:
            assert self.bool_gauge is not None  # the model validator guarantees one
            source, query = objective.FreshnessSource.BOOL_GAUGE, self.bool_gauge
        return objective.FreshnessIndicator(source, query, threshold)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [self.timestamp, self.lag, self.bool_gauge]
        if sum(source is not None for source in sources) != 1:
            raise ValueError("set exactly one freshness source: timestamp, lag or boolGauge")
        if (self.threshold is not None) == (self.bool_gauge is not None):
            raise ValueError(
                "threshold is required with timestamp or lag, and not allowed with boolGauge"
            )
        return self


class Indicator(ResourceModel):
    """The service level indicator: exactly one of ratio, latency or freshness."""

    model_config = ResourceModel.model_config | {
        "json_schema_extra": cel_rules(
            cel(
                "[has(self.ratio), has(self.latency), has(self.freshness)]"
                ".filter(set, set).size() == 1",
                "set exactly one indicator kind: ratio, latency or freshness",
            )
        )
    }

    ratio: RatioIndicator | None = Field(
        default=None, description="Errors (or good events) over total events, as PromQL."
    )
    latency: LatencyIndicator | None = Field(
        default=None, description="A latency threshold on a Prometheus histogram."
    )
    freshness: FreshnessIndicator | None = Field(
        default=None, description="How fresh some data is: the share of time it is not stale."
    )

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Self:
        if sum(kind is not None for kind in (self.ratio, self.latency, self.freshness)) != 1:
            raise ValueError("set exactly one indicator kind: ratio, latency or freshness")
        return self

    def to_indicator(self) -> objective.Indicator:
        """The core's view of whichever kind is set."""
        kind = self.ratio or self.latency or self.freshness
        assert kind is not None  # the model validator guarantees one
        return kind.to_indicator()
