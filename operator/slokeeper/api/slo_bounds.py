"""Bounds a sane SLO keeps (windows, burn-rate windows, alert label names), each declared once and
enforced twice: as a CEL rule the API server runs and as a pydantic validator with the same words,
which `slokeeper validate`, `slokeeper rules` and the operator's own parsing use.

A hostile or mistyped value (a ``0s`` window, ``10000y``, a ``__name__`` label) used to be accepted
by the API server and then broke every SLO's evaluation cycle or Prometheus' whole rule reload.
Used by ``api.slo``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from slokeeper.api.base import Duration, cel, cel_rules
from slokeeper.slo.durations import UNIT_SECONDS, duration_seconds
from slokeeper.slo.rules import RESERVED_ALERT_LABELS

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


def cel_string(text: str) -> str:
    """``text`` as a CEL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# A Go template action (``{{ … }}``) that calls ``query`` (slo.rule_check.DATA_READING_FUNCTIONS):
# from ``{{``, whole tokens (string literals, so a quoted "query" does not count; never ``}}``, nor
# a comment's ``/*``), then ``query`` as a name of its own (not ``$labels.query`` or ``queryX``).
# One regular expression that RE2 (CEL's) and Python's re read alike: the API server and the
# models refuse the same templates.
_IN_ACTION = r"""(?:[^"'`}/*]|\}[^}]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"""
DATA_READING_TEMPLATE = (
    r"\{\{(?:" + _IN_ACTION + r"""*[^A-Za-z0-9_.$"'`}])?query(?:[^A-Za-z0-9_]|$)"""
)


def _reserved_message(what: str, reserved: tuple[str, ...]) -> str:
    return (
        f"{what} names {', '.join(reserved[:-1])} and {reserved[-1]} are reserved: slokeeper "
        "and Prometheus set them on every alert"
    )


def alert_texts(what: str, *, reserved: tuple[str, ...] = (), value_length: int) -> Any:
    """A map of at most 32 entries: keys valid Prometheus label names, none starting with ``__``
    (Prometheus' own) and none of ``reserved``; values at most ``value_length`` characters with no
    template that reads series (``query``). Each rule is a CEL rule and a validator, same words."""
    rules: list[tuple[str, str, Callable[[str, str], bool]]] = [
        (
            f"{what} names must match {LABEL_NAME_PATTERN.strip('^$')} and must not start with __",
            f"self.all(k, k.matches('{LABEL_NAME_PATTERN}') && !k.startsWith('__'))",
            lambda name, _: not re.match(LABEL_NAME_PATTERN, name) or name.startswith("__"),
        ),
        (
            f"{what} values must not call query: an alert's template may show its own labels "
            "and value, never read series (of any namespace)",
            f"self.all(k, !self[k].matches({cel_string(DATA_READING_TEMPLATE)}))",
            lambda _, value: re.search(DATA_READING_TEMPLATE, value) is not None,
        ),
    ]
    if reserved:
        rules.insert(
            1,
            (
                _reserved_message(what, reserved),
                f"self.all(k, !(k in {_cel_string_list(reserved)}))",
                lambda name, _: name in reserved,
            ),
        )

    def valid(texts: dict[str, str]) -> dict[str, str]:
        for name, value in texts.items():
            for message, _, refused in rules:
                if refused(name, value):
                    raise ValueError(f"{message}: {name!r}")
        return texts

    value = Annotated[str, Field(max_length=value_length)]
    return Annotated[
        dict[str, value],
        Field(
            max_length=32,
            json_schema_extra=cel_rules(*(cel(rule, message) for message, rule, _ in rules)),
        ),
        AfterValidator(valid),
    ]


def alert_name(what: str) -> Any:
    """A Prometheus alert name (the classic metric-name rule without colons, which every
    Prometheus version and Alertmanager route accepts), refused with one message naming ``what``
    by the API server and by the model."""
    message = (
        f"{what} must be a Prometheus alert name: {LABEL_NAME_PATTERN.strip('^$')}, "
        "e.g. CheckoutHighErrorRate"
    )

    def valid(name: str) -> str:
        if not re.match(LABEL_NAME_PATTERN, name):
            raise ValueError(f"{message}: {name!r}")
        return name

    return Annotated[
        str,
        Field(
            max_length=128,  # the empty name is refused by the pattern, in the same words
            json_schema_extra=cel_rules(cel(f"self.matches('{LABEL_NAME_PATTERN}')", message)),
        ),
        AfterValidator(valid),
    ]


WindowDuration = bounded_duration("a window", at_least="1m", at_most="1y")
BurnRateDuration = bounded_duration("a burn-rate window", at_least="1m", at_most="1y")
ForecastDuration = bounded_duration("a forecast window", at_least="1m", at_most="1y")
ForDuration = bounded_duration("for", at_least="0s", at_most="1y")
AlertLabels = alert_texts("label", reserved=RESERVED_ALERT_LABELS, value_length=1024)
AlertAnnotations = alert_texts("annotation", value_length=4096)
PageAlertName = alert_name("names.page")
TicketAlertName = alert_name("names.ticket")
