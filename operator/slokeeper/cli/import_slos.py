"""``slokeeper import sloth|pyrra|openslo FILE…``: ServiceLevelObjective YAML from another
tool's SLOs.

The result goes to stdout (apply it, or commit it); every field with no equivalent is reported on
stderr as ``FILE: field: why``. Each produced SLO is validated as the API server would.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.migration import Converted, convert_openslo, convert_pyrra, convert_sloth

CONVERTERS: dict[str, Callable[[dict[str, Any], str], Converted]] = {
    "sloth": convert_sloth,
    "pyrra": convert_pyrra,
}
RECOGNISED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "sloth": lambda d: (
        d.get("version") == "prometheus/v1"
        or (d.get("kind") == "PrometheusServiceLevel" and "sloth" in str(d.get("apiVersion")))
    ),
    "pyrra": lambda d: (
        d.get("kind") == "ServiceLevelObjective"
        and str(d.get("apiVersion", "")).startswith("pyrra.dev/")
    ),
    "openslo": lambda d: str(d.get("apiVersion", "")).startswith("openslo/"),
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import", help="convert Sloth, Pyrra or OpenSLO SLOs into ServiceLevelObjectives"
    )
    parser.add_argument(
        "tool", choices=sorted([*CONVERTERS, "openslo"]), help="where the SLOs come from"
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "-n", "--namespace", default="default", help="namespace when the source has none"
    )
    parser.set_defaults(run=run)


def _read(paths: list[Path]) -> tuple[list[tuple[Path, dict[str, Any]]], bool]:
    documents, failed = [], False
    for path in paths:
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
        except (OSError, yaml.YAMLError) as error:
            print(f"{path}: {error}", file=sys.stderr)
            failed = True
            continue
        documents += [(path, document) for document in loaded]
    return documents, failed


def run(args: argparse.Namespace) -> int:
    documents, failed = _read(args.files)
    convert = CONVERTERS.get(args.tool)
    if convert is None:  # OpenSLO: an SLO may name an SLI kept in another document
        slis = {
            d.get("metadata", {}).get("name", ""): d for _, d in documents if d.get("kind") == "SLI"
        }
        convert = functools.partial(convert_openslo, slis=slis)
    produced: list[dict[str, Any]] = []
    for path, document in documents:
        if not RECOGNISED[args.tool](document):
            kind = document.get("kind") or document.get("version") or "unknown"
            print(f"{path}: not a {args.tool} SLO definition ({kind})", file=sys.stderr)
            failed = True
            continue
        try:
            converted = convert(document, args.namespace)
        except (KeyError, TypeError, ValueError) as error:
            print(f"{path}: not a {args.tool} SLO definition: {error!r}", file=sys.stderr)
            failed = True
            continue
        for note in converted.unmapped:
            print(f"{path}: {note}", file=sys.stderr)
        for slo in converted.slos:
            try:
                ServiceLevelObjective.model_validate(slo)
            except ValidationError as error:
                name = slo["metadata"]["name"]
                print(f"{path}: {name}: the result is invalid: {error}", file=sys.stderr)
                failed = True
                continue
            produced.append(slo)
    print(yaml.safe_dump_all(produced, sort_keys=False), end="")
    return 1 if failed or not produced else 0
