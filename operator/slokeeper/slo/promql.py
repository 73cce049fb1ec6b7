"""Adds label matchers to every vector selector of a PromQL expression.

The rollout loop narrows an SLO's SLI to the canary's (or stable's) pods by adding a matcher such
as ``pod=~"checkout-canary-.*"`` to each selector of the user's queries. A full PromQL parser would
be one more dependency; the language keeps selectors easy to find: a ``{…}`` label block, or a
bare metric name that is not a function, keyword or label list. String literals and comments
(``#`` to the end of the line, apostrophes and all) are skipped.
"""

from __future__ import annotations

import re

KEYWORDS = frozenset(
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
        "group_right", "bool", "offset", "start", "end", "inf", "nan",
    }
)  # fmt: skip
LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
# Aggregations may be followed by ``by (…)`` before their parenthesis, so they are never selectors.
AGGREGATIONS = frozenset(
    {
        "sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk",
        "quantile", "count_values", "group", "limitk", "limit_ratio",
    }
)  # fmt: skip
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _skip_string(text: str, start: int) -> int:
    """Index just past the string literal opening at ``start``."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == "\\" and quote != "`":
            index += 2
            continue
        if text[index] == quote:
            return index + 1
        index += 1
    raise ValueError(f"unterminated string literal at {start}: {text[start : start + 20]!r}")


def _skip_comment(text: str, start: int) -> int:
    """Index of the end of the line whose comment opens at ``start`` (its newline kept)."""
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _label_block_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the label block opened at ``start`` (strings skipped)."""
    index = start + 1
    while index < len(text):
        if text[index] in "\"'`":
            index = _skip_string(text, index)
            continue
        if text[index] == "#":
            index = _skip_comment(text, index)
            continue
        if text[index] == "}":
            return index
        index += 1
    raise ValueError(f"unterminated label block at {start}: {text[start : start + 20]!r}")


def _next_significant(text: str, index: int) -> str:

    while index < len(text) and text[index].isspace():
        index += 1
    return text[index] if index < len(text) else ""


def add_matchers(promql: str, matchers: str) -> str:
    """``promql`` with ``matchers`` (e.g. ``pod=~"x-.*"``) added to every vector selector."""
    out: list[str] = []
    index = 0
    in_label_list = False  # inside by (...), on (...) and the like
    in_range = False  # inside [5m] or [1h:5m]
    previous_word = ""
    while index < len(promql):
        char = promql[index]
        if char in "\"'`":
            end = _skip_string(promql, index)
            out.append(promql[index:end])
            index = end
            continue
        if char == "#":
            end = _skip_comment(promql, index)
            out.append(promql[index:end])
            index = end
            continue
        if char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == ")" and in_label_list:
            in_label_list = False
        if char == "{":
            closing = _next_significant(promql, index + 1)
            out.append("{" + matchers + ("" if closing == "}" else ","))
            end = _label_block_end(promql, index)
            out.append(promql[index + 1 : end])
            index = end
            continue
        match = _IDENTIFIER.match(promql, index)
        if match and not (index > 0 and (promql[index - 1].isalnum() or promql[index - 1] in "_.")):
            word = match.group(0)
            after = _next_significant(promql, match.end())
            out.append(word)
            index = match.end()
            if word in LABEL_LIST_KEYWORDS and after == "(":
                in_label_list = True
            elif not (
                in_label_list
                or in_range
                or word.lower() in KEYWORDS
                or word in AGGREGATIONS
                or after in ("(", "{")
                or previous_word == "offset"
            ):
                out.append("{" + matchers + "}")
            previous_word = word
            continue
        if not char.isspace():
            previous_word = ""
        out.append(char)
        index += 1
    return "".join(out)
