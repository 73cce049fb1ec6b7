"""`slokeeper rollout list` (every ChangeRollout of a namespace, or all of them: `kubectl get`'s
table) and `slokeeper rollout get NAME [--watch]` (the ReplicaSet and pod tree of each revision,
as `kubectl argo rollouts get rollout`), read with the user's own rights."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.rollout import ChangeRollout
from slokeeper.cli.rollout_access import connect, fail, read_rollout, target_template
from slokeeper.cli.rollout_outcome import change_settled, exit_code
from slokeeper.cli.rollout_tree import age, revisions, tree
from slokeeper.cli.rollout_view import LivePanel, waiting
from slokeeper.cli.slo_table import render
from slokeeper.kube.canary import canary_name
from slokeeper.kube.connection import api_client, default_namespace


def add_commands(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listed = actions.add_parser("list", help="every ChangeRollout: target, phase, step, weight")
    listed.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    listed.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    listed.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    got = actions.add_parser("get", help="the ReplicaSets and pods of each revision, as a tree")
    got.add_argument("name", help="the ChangeRollout")
    got.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    got.add_argument(
        "-w", "--watch", action="store_true", help="redraw until interrupted or the change ends"
    )
    for parser in (listed, got):
        parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
        parser.add_argument("--context", help="kubeconfig context")
    listed.set_defaults(run=list_rollouts)
    got.set_defaults(run=get_rollout)


def list_row(item: dict[str, Any], now: datetime) -> list[str]:
    """One ChangeRollout as `rollout list` shows it: STEP counted from 1 of the planned steps,
    WEIGHT the canary's share of Ready pods, both only while a canary runs."""
    meta, spec = item["metadata"], item.get("spec") or {}
    status = item.get("status") or {}
    current = status.get("current") or {}
    running = status.get("phase") == "Progressing" and current
    steps = current.get("steps") or [{}]
    return [
        meta["namespace"],
        meta["name"],
        (spec.get("targetRef") or {}).get("name", "-"),
        status.get("phase", "Idle"),
        f"{current.get('step', 0) + 1}/{len(spec.get('steps', []))}" if running else "-",
        f"{steps[-1].get('canaryWeightPercent', 0):g}%" if running else "-",
        status.get("reason") or "-",
        age(meta.get("creationTimestamp"), now),
    ]


def list_rollouts(args: argparse.Namespace) -> int:
    custom = client.CustomObjectsApi(api_client(args.kubeconfig, args.context))
    plural = ChangeRollout.plural
    namespace = None
    if not args.all_namespaces:
        namespace = args.namespace or default_namespace(args.kubeconfig, args.context)
    try:
        if namespace is None:
            found: Any = custom.list_cluster_custom_object(GROUP, VERSION, plural)
        else:
            found = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
    except ApiException as error:
        return fail(error, namespace or "*", "")
    items: list[dict[str, Any]] = found["items"]
    if args.output == "json":
        print(json.dumps(items, indent=2))
    elif args.output == "yaml":
        print(yaml.safe_dump(items, sort_keys=False), end="")
    elif not items:
        where = "any namespace" if namespace is None else f"namespace {namespace}"
        print(f"No ChangeRollouts found in {where}.", file=sys.stderr)
    else:
        header = ["NAMESPACE", "NAME", "TARGET", "PHASE", "STEP", "WEIGHT", "REASON", "AGE"]
        now = datetime.now(UTC)
        keyed = sorted(items, key=lambda i: (i["metadata"]["namespace"], i["metadata"]["name"]))
        rows = [list_row(item, now) for item in keyed]
        if namespace is not None:  # as kubectl: the namespace column only with -A
            header, rows = header[1:], [row[1:] for row in rows]
        print(render([header, *rows]))
    return 0


def _as_dicts(api: client.ApiClient, found: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.sanitize_for_serialization(found.items)  # type: ignore[no-untyped-call]
    return items


def _owners(apps: client.AppsV1Api, namespace: str, target: str) -> tuple[dict[str, str], str]:
    """The uids of the target and canary Deployments (either may be gone), and the target's
    label selector, which the canary's pods match too (the same labels, plus its track)."""
    owners, selector = {}, ""
    for name, role in ((target, "target"), (canary_name(target), "canary")):
        try:
            found: Any = apps.read_namespaced_deployment(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
            continue
        owners[str(found.metadata.uid)] = role
        if role == "target":
            labels = found.spec.selector.match_labels or {}
            selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return owners, selector


def picture(api: client.ApiClient, namespace: str, name: str) -> tuple[dict[str, Any], list[str]]:
    """The ChangeRollout and its tree, read now."""
    body = read_rollout(api, namespace, name)
    target = ((body.get("spec") or {}).get("targetRef") or {}).get("name", "")
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    owners, selector = _owners(apps, namespace, target)
    if not owners:
        return body, tree(body, [], [], datetime.now(UTC))
    listed = apps.list_namespaced_replica_set(namespace, label_selector=selector)
    replica_sets = _as_dicts(api, listed)
    pods = _as_dicts(api, core.list_namespaced_pod(namespace, label_selector=selector))
    now = datetime.now(UTC)
    lines = tree(body, revisions(body, owners, replica_sets), pods, now)
    waits = waiting(body, now)
    return body, [*lines, f"Waiting: {waits}"] if waits else lines


def get_rollout(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    try:
        body, lines = picture(api, namespace, args.name)
        if not args.watch:
            print("\n".join(lines))
            return 0
        live = sys.stdout.isatty()
        panel = LivePanel(sys.stdout)
        while True:
            if live:
                panel.show_lines(lines)
            elif lines != panel.drawn:
                print("\n".join(lines) + "\n", flush=True)
                panel.drawn = lines
            template = target_template(api, namespace, body)
            status = body.get("status") or {}
            if change_settled(status, template):
                return exit_code(status, template, watched=False)
            time.sleep(1)
            body, lines = picture(api, namespace, args.name)
    except ApiException as error:
        return fail(error, namespace, args.name)
