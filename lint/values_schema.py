"""Writes charts/slokeeper/values.schema.json from values.yaml and the table below, or checks it is
current (`make values-schema`; `make lint` runs the check). Helm validates every install, upgrade
and template against it, so a typo in a value fails with a message instead of being ignored.

One source: values.yaml's defaults give the keys and their types (every object closed to unknown
keys, so a misspelt key is refused); the tables here add what a default cannot say: maps whose
keys are the user's, item types of lists that are empty by default, allowed words and formats.

Run: .venv/bin/python lint/values_schema.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "slokeeper"
SCHEMA_FILE = CHART / "values.schema.json"

Schema = dict[str, Any]
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
# Kubernetes objects passed through to the pod spec as they are: the API server checks them.
KUBERNETES_OBJECT: Schema = {"type": "object"}
DURATION: Schema = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
PORT: Schema = {"type": "integer", "minimum": 1, "maximum": 65535}
URL: Schema = {"type": "string", "pattern": r"^https?://[^\s]+$"}
STRINGS: Schema = {"type": "array", "items": {"type": "string"}}

# Dotted path of a value → its whole schema, replacing what the default implies.
REPLACED: dict[str, Schema] = {
    "imagePullSecrets": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1}},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "image.digest": {"type": "string", "pattern": r"^(sha256:[0-9a-f]{64})?$"},
    "image.pullPolicy": {"type": "string", "enum": ["Always", "IfNotPresent", "Never"]},
    "prometheus.url": URL,
    "prometheus.timeout": DURATION,
    "prometheus.maxResponseSize": {"type": "string", "pattern": r"^[0-9]+(B|KiB|MiB|GiB)?$"},
    # Words and item formats the templates check themselves, with a message naming the choices.
    "prometheus.partialResponse": {"type": "string"},
    # YAML reads an unquoted on/off as a boolean; the chart takes both spellings.
    "prometheus.dedup": {"type": ["string", "boolean"]},
    "prometheus.queryParams": STRINGS,
    "alertmanager.url": {"type": "string", "pattern": r"^(https?://[^\s]+)?$"},
    "watchNamespaces": STRINGS,
    "interval": DURATION,
    "rolloutConcurrency": {"type": "integer", "minimum": 1},
    "logFormat": {"type": "string", "enum": ["json", "text"]},
    "metrics.port": PORT,
    "metrics.service.port": PORT,
    "metrics.service.type": {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
    "metrics.service.annotations": STRING_MAP,
    "health.port": PORT,
    "serviceMonitor.interval": DURATION,
    "serviceMonitor.labels": STRING_MAP,
    "grafanaDashboard.labels": STRING_MAP,
    "grafanaDashboard.annotations": STRING_MAP,
    "serviceAccount.annotations": STRING_MAP,
    "requestPolicy.exemptUsers": STRINGS,
    "requestPolicy.namespaceSelector": KUBERNETES_OBJECT,
    "guardedDeploymentPolicy.exemptUsers": STRINGS,
    "guardedDeploymentPolicy.exemptGroups": STRINGS,
    "guardedDeploymentPolicy.namespaceSelector": KUBERNETES_OBJECT,
    "operatorWritePolicy.deniedNamespaces": STRINGS,
    "podDisruptionBudget.minAvailable": {"type": ["integer", "string"]},
    "terminationGracePeriodSeconds": {"type": "integer", "minimum": 0},
    "replicaCount": {"type": "integer", "minimum": 0},
    "resources": KUBERNETES_OBJECT,
    "podSecurityContext": KUBERNETES_OBJECT,
    "securityContext": KUBERNETES_OBJECT,
    "podAnnotations": STRING_MAP,
    "podLabels": STRING_MAP,
    "nodeSelector": STRING_MAP,
    "tolerations": {"type": "array", "items": KUBERNETES_OBJECT},
    "affinity": KUBERNETES_OBJECT,
}
# Helm passes a parent chart's `global` values to every subchart.
TOP_LEVEL_EXTRA: dict[str, Schema] = {"global": {"type": "object"}}


def _schema_of(path: str, default: Any) -> Schema:
    if path in REPLACED:
        return REPLACED[path]
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "integer"}
    if isinstance(default, float):
        return {"type": "number"}
    if isinstance(default, str):
        return {"type": "string"}
    if isinstance(default, dict) and default:
        return {
            "type": "object",
            "properties": {
                key: _schema_of(f"{path}.{key}" if path else key, value)
                for key, value in default.items()
            },
            "additionalProperties": False,
        }
    raise ValueError(
        f"values.yaml: {path or 'the top level'} = {default!r}: its default says nothing of its "
        "type; give it a schema in REPLACED in lint/values_schema.py"
    )


def values_schema(values_text: str) -> Schema:
    """The JSON schema for the chart's values, from values.yaml's text."""
    schema = _schema_of("", yaml.safe_load(values_text))
    schema["properties"].update(TOP_LEVEL_EXTRA)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Values of the slokeeper chart (generated by lint/values_schema.py; do not edit)",
        **schema,
    }


def rendered() -> str:
    schema = values_schema((CHART / "values.yaml").read_text())
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    wanted = rendered()
    if args.check:
        if not SCHEMA_FILE.is_file() or SCHEMA_FILE.read_text() != wanted:
            print(
                f"{SCHEMA_FILE.relative_to(REPO)} is stale: run `make values-schema`",
                file=sys.stderr,
            )
            return 1
        return 0
    SCHEMA_FILE.write_text(wanted)
    print(f"wrote {SCHEMA_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
