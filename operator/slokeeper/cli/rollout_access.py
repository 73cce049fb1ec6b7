"""How `slokeeper rollout …` reaches a ChangeRollout: the API client for the kubeconfig and
namespace given, the object read, and an API error said in one line with the server's own words."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.rollout import ChangeRollout
from slokeeper.kube.connection import api_client, default_namespace
from slokeeper.kube.rollout_target import read_target
from slokeeper.rollout.workload import TargetMissingError


def connect(args: argparse.Namespace) -> tuple[client.ApiClient, str]:
    api = api_client(args.kubeconfig, args.context)
    return api, args.namespace or default_namespace(args.kubeconfig, args.context)


def read_rollout(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    found: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, ChangeRollout.plural, name
    )
    return dict(found)


def fail(error: ApiException, namespace: str, name: str) -> int:
    what = "not found" if error.status == 404 else f"{error.status} {error.reason}"
    try:
        # The API server's own words: an admission policy's refusal says why.
        said = json.loads(error.body or "{}").get("message")
    except (ValueError, AttributeError):
        said = None
    print(
        f"ChangeRollout {namespace}/{name}: {what}" + (f": {said}" if said else ""), file=sys.stderr
    )
    return 1


def target_template(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> str | None:
    """The guarded Deployment's template hash, as the operator computes it (None if gone)."""
    try:
        return read_target(api, namespace, body["spec"]["targetRef"]["name"]).template_hash
    except TargetMissingError:
        return None
