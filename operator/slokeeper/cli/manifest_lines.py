"""Where a field sits in a YAML file: error messages that point at a line, like a compiler's."""

from __future__ import annotations

from collections.abc import Sequence

import yaml


def field_line(document: yaml.Node, location: Sequence[str | int]) -> int:
    """1-based line of the deepest part of ``location`` (keys and list indices) that exists: the
    line of its key for a mapping entry, of its dash for a list item."""
    node, line = document, document.start_mark.line
    for part in location:
        if isinstance(node, yaml.MappingNode):
            entry = next(((k, v) for k, v in node.value if k.value == part), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return int(line) + 1


def field_path(location: Sequence[str | int]) -> str:
    """``spec.steps[2].weight``: a location as kubectl and the API server write it."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path
