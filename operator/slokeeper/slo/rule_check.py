"""Checks a generated rule group as Prometheus checks a rule file when it loads it, so that a group
it would refuse is never written: Prometheus refuses a reload with one bad rule in it, and keeps
every other tenant's new rules out with it ("previous rule set restored").

The operator image has no promtool and no PromQL parser, so this is our own check of what a
tenant's values can break: rule and label names, label values, the Go templates in alert labels
and annotations, durations, and the PromQL the operator composes (literals closed, brackets
balanced, every range a duration Prometheus accepts). The queries a tenant writes are parsed by
Prometheus itself before rules are written (``SLOFiguresReader.rejected_query``). The loop calls
``group_problems`` before every write; tests hold its verdicts against the real promtool.

It also refuses one thing Prometheus would load: an alert label or annotation template that reads
series (``query``), which would show one tenant's pages any namespace's data. The API server
refuses those first (``api.slo_bounds``); this is the last check before a rule is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from slokeeper.slo.durations import duration_seconds
from slokeeper.slo.rules import BUDGET_LEFT_TEMPLATE, RuleGroup

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# PromQL ranges and ``for`` become Go durations (int64 nanoseconds): about 292 years at most.
MAX_DURATION_SECONDS = 292 * 365 * 86400.0

# Go's text/template built-ins and Prometheus' template functions (template/template.go).
TEMPLATE_FUNCTIONS = frozenset(
    re.split(
        r"\s+",
        "and call html index slice js len not or print printf println urlquery eq ge gt le lt ne "
        "query first label value strvalue args reReplaceAll safeHtml match title toUpper toLower "
        "graphLink tableLink sortByLabel stripPort stripDomain humanize humanize1024 "
        "humanizeDuration humanizePercentage humanizeTimestamp toTime toDuration parseDuration "
        "pathPrefix externalURL urlQueryEscape now",
    )
)
# Template functions that read series: ``query`` runs any PromQL over every namespace's data. A
# tenant's alert labels and annotations may not call it (Prometheus would load them); the other
# functions read only what they are handed (the alert's own labels and value).
DATA_READING_FUNCTIONS = frozenset({"query"})
_TEMPLATE_WORDS = frozenset({"true", "false", "nil"})
_OPENS_BLOCK = frozenset({"if", "with", "range", "define", "block"})
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def group_problems(group: RuleGroup) -> tuple[str, ...]:
    """Why Prometheus would refuse this group, one line each; empty when it would load it."""
    problems = [] if group.name else ["the group has no name"]
    for index, rule in enumerate(group.rules, start=1):
        name = rule.get("record") or rule.get("alert") or ""
        problems += [f"rule {index} ({name}): {problem}" for problem in _rule_problems(rule)]
    return tuple(problems)


def _rule_problems(rule: dict[str, Any]) -> Iterator[str]:
    alert = "alert" in rule
    if alert == ("record" in rule):
        yield "a rule needs exactly one of record and alert"
        return
    if alert and not _text(rule["alert"]):
        yield "an alert needs a name"
    if not alert and not METRIC_NAME.match(str(rule["record"])):
        yield f"invalid metric name {rule['record']!r}"
    if problem := promql_problem(str(rule.get("expr", ""))):
        yield f"expr: {problem}"
    for name, value in dict(rule.get("labels") or {}).items():
        if not LABEL_NAME.match(name) or name.startswith("__"):
            yield f"invalid label name {name!r}"
        yield from _value_problems(f"label {name!r}", value, templated=alert)
    for name, value in dict(rule.get("annotations") or {}).items():
        if not alert or not _text(name):
            yield f"invalid annotation name {name!r}"
        yield from _value_problems(f"annotation {name!r}", value, templated=True)
    for key in ("for", "keep_firing_for"):
        if key in rule and (problem := _duration_problem(str(rule[key]), allow_zero=True)):
            yield f"{key}: {problem}"


def _text(value: Any) -> bool:
    """A non-empty string that YAML (and Prometheus) can carry: valid UTF-8."""
    return isinstance(value, str) and bool(value) and _utf8(value)


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _value_problems(what: str, value: Any, *, templated: bool) -> Iterator[str]:
    if not isinstance(value, str) or not _utf8(value):
        yield f"{what}: the value is not valid UTF-8 text"
    elif templated and (problem := _template_refusal(value)):
        yield f"{what}: template: {problem}"


def _template_refusal(text: str) -> str | None:
    """Why Prometheus would not load this template, or why no tenant may write it: it reads
    series (slokeeper's own forecast template reads its own SLO's, and only that is let by)."""
    return template_problem(text) or data_read_problem(text.replace(BUDGET_LEFT_TEMPLATE, ""))


def _duration_problem(text: str, *, allow_zero: bool = False) -> str | None:
    try:
        seconds = duration_seconds(text)
    except ValueError as error:
        return str(error)
    if seconds <= 0 and not allow_zero:
        return f"duration {text} must be positive"
    if seconds > MAX_DURATION_SECONDS:
        return f"duration {text} is out of range"
    return None


def promql_problem(expr: str) -> str | None:
    """A structural problem of a PromQL expression: no expression, a literal left open, unbalanced
    brackets, or a range that is not a positive duration in range."""
    if not expr.strip():
        return "no expression"
    stack: list[tuple[str, int]] = []
    position = 0
    while position < len(expr):
        char = expr[position]
        if char in "\"'`":
            end = _literal_end(expr, position)
            if end is None:
                return f"unterminated string literal at {position}"
            position = end
        elif char == "#":
            newline = expr.find("\n", position)
            position = len(expr) if newline < 0 else newline
        elif char in "([{":
            stack.append((char, position))
        elif char in _CLOSERS:
            if not stack or stack[-1][0] != _CLOSERS[char]:
                return f"unexpected {char!r} at {position}"
            opened = stack.pop()[1]
            if char == "]" and (problem := _range_problem(expr[opened + 1 : position])):
                return problem
        position += 1
    if stack:
        return f"unclosed {stack[-1][0]!r} at {stack[-1][1]}"
    return None


def _literal_end(text: str, start: int) -> int | None:
    """Index of the quote closing the literal opened at ``start`` (backquotes: no escapes)."""
    quote, position = text[start], start + 1
    while position < len(text):
        if text[position] == "\\" and quote != "`":
            position += 2
            continue
        if text[position] == quote:
            return position
        if text[position] == "\n" and quote != "`":
            return None
        position += 1
    return None


def _range_problem(inside: str) -> str | None:
    """A range ``[5m]`` or subquery ``[28d:1h]``/``[1h:]``: each part a duration in range."""
    range_part, _, step = inside.partition(":")
    if problem := _duration_problem(range_part.strip()):
        return f"range [{inside}]: {problem}"
    if step.strip() and (problem := _duration_problem(step.strip())):
        return f"subquery step [{inside}]: {problem}"
    return None


def template_problem(text: str) -> str | None:
    """Why Go's text/template (with Prometheus' functions) would not parse ``text``, or None.

    A structural check: actions closed, literals and parentheses balanced inside them, control
    blocks opened and closed in order, no empty action, and only known functions called.
    """
    blocks: list[str] = []
    position = text.find("{{")
    while position >= 0:
        body, after = _action(text, position)
        if body is None:
            return "unclosed action"
        if body.startswith("/*"):
            if not body.endswith("*/"):
                return "unclosed comment"
        elif problem := _action_problem(body, blocks):
            return problem
        position = text.find("{{", after)
    return f"unexpected EOF: {{{{{blocks[-1]}}}}} is not closed by {{{{end}}}}" if blocks else None


def data_read_problem(text: str) -> str | None:
    """Why a template would read series (a call of ``query``: any namespace's data, shown to
    whoever receives the alert), or None when it reads only the alert's own labels and value."""
    position = text.find("{{")
    while position >= 0:
        body, after = _action(text, position)
        if body is None:
            return None  # not a template Prometheus loads: template_problem says why
        called = DATA_READING_FUNCTIONS.intersection(_TOKEN.findall(body))
        if called and not body.startswith("/*"):
            return (
                f"calls {', '.join(sorted(called))}, which reads the series of every namespace; "
                "an alert's labels and annotations may show only its own labels and value"
            )
        position = text.find("{{", after)
    return None


def _action(text: str, start: int) -> tuple[str | None, int]:
    """The body of the action opened at ``start`` (trim markers removed) and where it ends."""
    position = start + 2
    while position < len(text) - 1:
        char = text[position]
        if char in "\"'`":
            end = _literal_end(text, position)
            if end is None:
                return None, len(text)
            position = end + 1
            continue
        if text.startswith("}}", position):
            body = text[start + 2 : position]
            if body.startswith("- ") or body == "-":
                body = body[1:]
            if body.endswith(" -"):
                body = body[:-1]
            return body.strip(), position + 2
        position += 1
    return None, len(text)


_TOKEN = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`|:=|[()|,=]|[^\s()|,=]+")


def _action_problem(body: str, blocks: list[str]) -> str | None:
    tokens = _TOKEN.findall(body)
    if not tokens:
        return "missing value for command"
    if problem := _block_problem(tokens, blocks):
        return problem
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth < 0:
            return "unexpected right paren"
        if _IDENTIFIER.fullmatch(token) and token not in _KNOWN_WORDS:
            return f'function "{token}" not defined'
    return "unclosed left paren" if depth else None


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KNOWN_WORDS = (
    TEMPLATE_FUNCTIONS
    | _TEMPLATE_WORDS
    | _OPENS_BLOCK
    | {
        "else",
        "end",
        "template",
        "break",
        "continue",
    }
)


def _block_problem(tokens: list[str], blocks: list[str]) -> str | None:
    """Keeps the stack of open blocks: if/with/range/define/block … else … end."""
    keyword = tokens[0]
    if keyword in _OPENS_BLOCK:
        if len(tokens) == 1:
            return f"missing value for {keyword}"
        blocks.append(keyword)
    elif keyword == "else":
        if not blocks or blocks[-1] not in {"if", "with", "range"}:
            return "unexpected {{else}}"
    elif keyword == "end":
        if not blocks:
            return "unexpected {{end}}"
        blocks.pop()
    elif keyword in {"break", "continue"} and "range" not in blocks:
        return f"{{{{{keyword}}}}} outside {{{{range}}}}"
    return None
