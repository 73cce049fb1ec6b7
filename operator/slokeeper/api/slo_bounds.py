"""Bounds a sane SLO keeps (windows, burn-rate windows, alert label names), each declared once and
enforced twice: as a CEL rule the API server runs and as a pydantic validator with the same words,
which `slokeeper validate`, `slokeeper rules` and the operator's own parsing use.

A hostile or mistyped value (a ``0s`` window, ``10000y``, a ``__name__`` label) used to be accepted
by the API server and then broke every SLO's evaluation cycle or Prometheus' whole rule reload.
Used by ``api.slo``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from slokeeper.api.base import Duration, cel, cel_rules
from slokeeper.slo.durations import UNIT_SECONDS, duration_seconds
from slokeeper.slo.rules import OPERATOR_LABELS

# Prometheus' label-name rule (the classic one, which every Prometheus version accepts).
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"

# Longest unit suffix first, so "ms" is not read as "m" or "s".
_UNITS = sorted(UNIT_SECONDS, key=len, reverse=True)


def cel_seconds(value: str) -> str:
    """A CEL expression for the seconds in the Prometheus duration ``value`` (a CEL expression).

    CEL's own ``duration()`` knows Go's units only (no d, w or y), so the parts are summed here;
    in floating point, so that no value the 32-character pattern allows can overflow.
    """
    factor = "".join(f"p.endsWith('{unit}') ? {float(UNIT_SECONDS[unit])!r} : " for unit in _UNITS)
    parts = f"{value}.findAll('[0-9]+({'|'.join(_UNITS)})')"
    return f"{parts}.map(p, double(p.find('[0-9]+')) * ({factor}0.0)).sum()"


def bounded_duration(what: str, *, at_least: str, at_most: str) -> Any:
    """A Prometheus duration from ``at_least`` to ``at_most``, refused with one message by the
    API server and by the model (the message names ``what``)."""
    low, high = duration_seconds(at_least), duration_seconds(at_most)
    if low > 0:
        message = f"{what} must be at least {at_least} and at most {at_most}"
        rule = f"{cel_seconds('self')} >= {low!r} && {cel_seconds('self')} <= {high!r}"
    else:
        message = f"{what} must be at most {at_most}"
        rule = f"{cel_seconds('self')} <= {high!r}"

    def within(value: str) -> str:
        if not low <= duration_seconds(value) <= high:
            raise ValueError(message)
        return value

    return Annotated[
        Duration, Field(json_schema_extra=cel_rules(cel(rule, message))), AfterValidator(within)
    ]


def _cel_string_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def label_names(what: str, *, reserved: tuple[str, ...] = ()) -> Any:
    """A map of at most 32 entries whose keys are valid Prometheus label names, none starting
    with ``__`` (Prometheus' own) and none of ``reserved`` (labels slokeeper sets itself)."""
    message = f"{what} names must match {LABEL_NAME_PATTERN.strip('^$')} and must not start with __"
    rule = f"k.matches('{LABEL_NAME_PATTERN}') && !k.startsWith('__')"
    if reserved:
        message += f" or be one slokeeper sets ({', '.join(reserved)})"
        rule += f" && !(k in {_cel_string_list(reserved)})"
    pattern = re.compile(LABEL_NAME_PATTERN)

    def valid(names: dict[str, str]) -> dict[str, str]:
        for name in names:
            if not pattern.match(name) or name.startswith("__") or name in reserved:
                raise ValueError(f"{message}: {name!r}")
        return names

    return Annotated[
        dict[str, str],
        Field(max_length=32, json_schema_extra=cel_rules(cel(f"self.all(k, {rule})", message))),
        AfterValidator(valid),
    ]


WindowDuration = bounded_duration("a window", at_least="1m", at_most="1y")
BurnRateDuration = bounded_duration("a burn-rate window", at_least="1m", at_most="1y")
ForecastDuration = bounded_duration("a forecast window", at_least="1m", at_most="1y")
ForDuration = bounded_duration("for", at_least="0s", at_most="1y")
AlertLabels = label_names("label", reserved=OPERATOR_LABELS)
AlertAnnotations = label_names("annotation")
