"""``slokeeper rules FILE…``: print the Prometheus rules of SLO manifests, offline.

For pipelines that render rules in CI: the output is what the operator writes into the cluster,
as one rule file (default) or as PrometheusRule objects. Other kinds in the files are ignored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from pydantic import ValidationError

from slokeeper.api.prometheus_rules import dump_yaml, prometheus_rule, rule_file
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import rule_group


class ManifestError(ValueError):
    """A manifest could not be read as SLOs; the message names the file and the field."""


def load_objectives(paths: list[Path]) -> list[Objective]:
    """Every ServiceLevelObjective in the files, validated as the API server would."""
    objectives = []
    for path in paths:
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except (OSError, yaml.YAMLError) as error:
            raise ManifestError(f"{path}: {error}") from error
        for index, document in enumerate(documents):
            if not isinstance(document, dict) or document.get("kind") != "ServiceLevelObjective":
                continue
            try:
                objectives.append(ServiceLevelObjective.model_validate(document).to_objective())
            except ValidationError as error:
                name = document.get("metadata", {}).get("name", f"document {index + 1}")
                problems = "; ".join(
                    f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                    for problem in error.errors()
                )
                raise ManifestError(f"{path}: {name}: {problems}") from error
    return objectives


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rules", help="print the Prometheus rules of SLO manifests")
    parser.add_argument(
        "files", nargs="+", type=Path, help="YAML files with ServiceLevelObjectives"
    )
    parser.add_argument(
        "--format",
        choices=("rulefile", "prometheusrule"),
        default="rulefile",
        help="a Prometheus rule file (default) or one PrometheusRule object per SLO",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        objectives = load_objectives(args.files)
    except ManifestError as error:
        print(f"slokeeper rules: {error}", file=sys.stderr)
        return 1
    if not objectives:
        print("slokeeper rules: no ServiceLevelObjective in the files given", file=sys.stderr)
        return 1
    if args.format == "rulefile":
        sys.stdout.write(dump_yaml([rule_file(rule_group(o) for o in objectives)]))
    else:
        sys.stdout.write(dump_yaml(prometheus_rule(o, rule_group(o)) for o in objectives))
    return 0
