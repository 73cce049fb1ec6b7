"""``slokeeper validate FILE…``: check manifests before they reach a cluster — what the API server
refuses, in its words (values JSON cannot carry, JSON types, the schema's bounds and the rules its
CEL enforces), the operator's own check of the rules an SLO would get
(what Prometheus would refuse, e.g. a broken template in an alert label), and (when promtool is at
hand) every PromQL query an SLO would put into its rules — with ``file:line: field: problem``
messages.

Exit code 0 when every slokeeper document is valid, 1 otherwise. Other kinds are skipped.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from slokeeper.api.change_policy import ChangePolicy
from slokeeper.api.crd import RESOURCE_KINDS, custom_resource_definition
from slokeeper.api.maintenance import NamespaceMaintenanceWindow
from slokeeper.api.openapi import Location, type_problems, unsupported_values
from slokeeper.api.prometheus_rules import dump_yaml
from slokeeper.api.rollout import ChangeRollout
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.manifest_lines import field_line, field_path
from slokeeper.slo.rule_check import group_problems
from slokeeper.slo.rules import error_ratio_query, rule_group, stale_query

KINDS: dict[str, type[BaseModel]] = {
    "ServiceLevelObjective": ServiceLevelObjective,
    "ChangeRollout": ChangeRollout,
    "MaintenanceWindow": NamespaceMaintenanceWindow,
    "ChangePolicy": ChangePolicy,
}

# The schema the API server checks each kind against, as the CRDs carry it.
SCHEMAS: dict[str, dict[str, Any]] = {
    kind.kind: custom_resource_definition(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for kind in RESOURCE_KINDS
}


def document_problems(
    document: dict[str, Any],
) -> tuple[BaseModel | None, list[tuple[Location, str]]]:
    """The model of one document, or None, and what the API server would refuse in it, field by
    field and in its words: a value JSON cannot carry (NaN, ±Inf: refused before anything else),
    a value of the wrong JSON type (a string "99.9" where the schema says number: pydantic's lax
    mode would read it as one), and what the model refuses (the other schema bounds and the CEL
    rules, in the same words). The status is left out of the types: the API server ignores it."""
    if unsupported := unsupported_values(document):
        return None, unsupported
    schema = SCHEMAS[document["kind"]]
    problems = type_problems(schema, {k: v for k, v in document.items() if k != "status"})
    mistyped = [location for location, _ in problems]
    try:
        model = KINDS[document["kind"]].model_validate(document)
    except ValidationError as error:
        for problem in error.errors():
            location = tuple(p if isinstance(p, int) else str(p) for p in problem["loc"])
            if not any(location[: len(typed)] == typed for typed in mistyped):
                problems.append((location, problem["msg"]))
        return None, problems
    return (None if problems else model), problems


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate", help="check SLO, ChangeRollout and MaintenanceWindow manifests"
    )
    parser.add_argument("files", nargs="+", type=Path, help="YAML files")
    parser.add_argument(
        "--promtool", type=Path, help="promtool to check the PromQL with (default: on $PATH)"
    )
    parser.set_defaults(run=run)


def _queries(model: BaseModel) -> list[tuple[list[str | int], str]]:
    """Each PromQL query an SLO brings, with where it is written: ratio queries one by one (with
    a 5m window), a latency SLI as the error-ratio query built from it, a freshness source as
    the staleness query built from it."""
    if not isinstance(model, ServiceLevelObjective):
        return []
    freshness = model.spec.indicator.freshness
    if freshness is not None:
        source = freshness.to_indicator().source.value
        return [(["spec", "indicator", "freshness", source], stale_query(freshness.to_indicator()))]
    ratio = model.spec.indicator.ratio
    if ratio is None:
        return [(["spec", "indicator", "latency"], error_ratio_query(model.to_objective(), 300))]
    written = {"errors": ratio.errors, "good": ratio.good, "total": ratio.total}
    return [
        (["spec", "indicator", "ratio", field], query.replace("{{.window}}", "5m"))
        for field, query in written.items()
        if query is not None
    ]


def _promql_problem(promtool: Path, query: str) -> str | None:
    """promtool's parse error for one query, or None."""
    rules = dump_yaml(
        [{"groups": [{"name": "validate", "rules": [{"record": "x", "expr": query}]}]}]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(rules)
        handle.flush()
        checked = subprocess.run(
            [str(promtool), "check", "rules", handle.name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if checked.returncode == 0:
        return None
    output = checked.stdout + checked.stderr
    return output.split("could not parse expression: ", 1)[-1].strip().splitlines()[0]


def check_file(path: Path, promtool: Path | None) -> list[str]:
    """Every problem in one file, as ``file:line: field: message``."""
    try:
        text = path.read_text()
        nodes = list(yaml.compose_all(text))
        documents: list[Any] = list(yaml.safe_load_all(text))
    except (OSError, yaml.YAMLError) as error:
        return [f"{path}: {error}"]
    problems = []
    for node, document in zip(nodes, documents, strict=True):
        if not isinstance(document, dict) or document.get("kind") not in KINDS:
            continue
        model, refused = document_problems(document)
        for at, message in refused:
            problems.append(f"{path}:{field_line(node, at)}: {field_path(at)}: {message}")
        if model is None:
            continue
        if isinstance(model, ServiceLevelObjective):
            # What the operator would refuse to write: Prometheus would refuse the reload. (Its
            # expressions come from the indicator's queries, which promtool checks at their field.)
            alerting = ["spec", "alerting"]
            refusals = group_problems(rule_group(model.to_objective()))
            for refusal in (r for r in refusals if ": expr: " not in r):
                where = f"{field_line(node, alerting)}: {field_path(alerting)}"
                problems.append(f"{path}:{where}: Prometheus would refuse its rules: {refusal}")
        if promtool is None:
            continue
        for location, query in _queries(model):
            if issue := _promql_problem(promtool, query):
                where = f"{field_line(node, location)}: {field_path(location)}"
                problems.append(f"{path}:{where}: PromQL {issue}")
    return problems


def run(args: argparse.Namespace) -> int:
    found = args.promtool or shutil.which("promtool")
    promtool = Path(found) if found else None
    problems = [problem for path in args.files for problem in check_file(path, promtool)]
    for problem in problems:
        print(problem)
    if not problems:
        checked = "schema, API-server rules" + (", PromQL" if promtool else "")
        print(f"{len(args.files)} file(s) valid ({checked}).")
    if promtool is None:
        print("promtool not found: PromQL was not checked (use --promtool PATH).")
    return 1 if problems else 0
