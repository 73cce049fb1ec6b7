"""``slokeeper rules FILE|DIR… [-o DIR]``: the Prometheus rules of SLO manifests, offline.

For pipelines that render rules in CI: the output is what the operator writes into the cluster,
as one rule file (default) or as PrometheusRule objects. Other kinds in the files are ignored.
A directory stands for every ``*.yaml`` and ``*.yml`` file under it, recursively (hidden
directories such as ``.git`` left out), in name order, as ``sloth generate -i DIR`` reads one.
``-o DIR`` writes one file per SLO, ``<namespace>_<name>.yaml``, instead of printing them.
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


def manifest_files(paths: list[Path]) -> list[Path]:
    """The files named, and for a directory every YAML file under it, in name order."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)  # a missing file is said when it is read
            continue
        found += sorted(
            file
            for file in path.rglob("*")
            if file.suffix in (".yaml", ".yml")
            and file.is_file()
            and not any(part.startswith(".") for part in file.relative_to(path).parts)
        )
    return found


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rules", help="print the Prometheus rules of SLO manifests")
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE|DIR",
        help="YAML files with ServiceLevelObjectives; a directory: every *.yaml and *.yml in it,"
        " recursively",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write one file per SLO there (<namespace>_<name>.yaml) instead of printing",
    )
    parser.add_argument(
        "--format",
        choices=("rulefile", "prometheusrule"),
        default="rulefile",
        help="a Prometheus rule file (default) or one PrometheusRule object per SLO",
    )
    parser.set_defaults(run=run)


def _rendered(objective: Objective, rule_format: str) -> str:
    if rule_format == "rulefile":
        return dump_yaml([rule_file([rule_group(objective)])])
    return dump_yaml([prometheus_rule(objective, rule_group(objective))])


def write_files(objectives: list[Objective], rule_format: str, directory: Path) -> list[Path]:
    """One file per SLO in ``directory``; two SLOs of the same name are refused, as one file
    would silently hold only the last."""
    named: dict[Path, Objective] = {}
    for objective in objectives:
        path = directory / f"{objective.namespace}_{objective.name}.yaml"
        if path in named:
            raise ManifestError(
                f"two ServiceLevelObjectives {objective.namespace}/{objective.name}"
            )
        named[path] = objective
    directory.mkdir(parents=True, exist_ok=True)
    for path, objective in named.items():
        path.write_text(_rendered(objective, rule_format))
    return list(named)


def run(args: argparse.Namespace) -> int:
    try:
        objectives = load_objectives(manifest_files(args.files))
    except ManifestError as error:
        print(f"slokeeper rules: {error}", file=sys.stderr)
        return 1
    if not objectives:
        print("slokeeper rules: no ServiceLevelObjective in the files given", file=sys.stderr)
        return 1
    if args.output_dir is not None:
        try:
            written = write_files(objectives, args.format, args.output_dir)
        except (ManifestError, OSError) as error:
            print(f"slokeeper rules: {error}", file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {path}")
        return 0
    if args.format == "rulefile":
        sys.stdout.write(dump_yaml([rule_file(rule_group(o) for o in objectives)]))
    else:
        sys.stdout.write(dump_yaml(prometheus_rule(o, rule_group(o)) for o in objectives))
    return 0
