"""``slokeeper status``: every SLO's budget and burn at a glance."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.slo import ServiceLevelObjective
from slokeeper.cli.slo_table import render, slo_rows
from slokeeper.kube.connection import api_client, default_namespace


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("status", help="every SLO: target, SLI, budget left, burn")
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    custom = client.CustomObjectsApi(api_client(args.kubeconfig, args.context))
    plural = ServiceLevelObjective.plural
    try:
        if args.all_namespaces:
            listed: Any = custom.list_cluster_custom_object(GROUP, VERSION, plural)
        else:
            namespace = args.namespace or default_namespace(args.kubeconfig, args.context)
            listed = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
    except ApiException as error:
        print(f"cannot list ServiceLevelObjectives: {error.status} {error.reason}", file=sys.stderr)
        return 1
    items: list[dict[str, Any]] = listed["items"]
    if args.output == "json":
        print(json.dumps(items, indent=2))
    elif args.output == "yaml":
        print(yaml.safe_dump(items, sort_keys=False), end="")
    elif not items:
        print("No ServiceLevelObjectives found.")
    else:
        print(render(slo_rows(items)))
    return 0
