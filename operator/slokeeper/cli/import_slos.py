"""``slokeeper import sloth|pyrra FILE…``: ServiceLevelObjective YAML from another tool's SLOs.

The result goes to stdout (apply it, or commit it); every field with no equivalent is reported on
stderr as ``FILE: field: why``. Each produced SLO is validated as the API server would.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.migration import Converted, convert_pyrra, convert_sloth

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
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import", help="convert Sloth or Pyrra SLOs into ServiceLevelObjectives"
    )
    parser.add_argument("tool", choices=sorted(CONVERTERS), help="where the SLOs come from")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "-n", "--namespace", default="default", help="namespace when the source has none"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    convert = CONVERTERS[args.tool]
    produced: list[dict[str, Any]] = []
    failed = False
    for path in args.files:
        try:
            documents = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
        except (OSError, yaml.YAMLError) as error:
            print(f"{path}: {error}", file=sys.stderr)
            failed = True
            continue
        for document in documents:
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
