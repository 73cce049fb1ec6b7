"""`slokeeper rollout restart` and `slokeeper rollout undo`: the two commands an on-call engineer
reaches for first, which kubectl refuses on a paused (guarded) Deployment.

Both change the target's pod template as kubectl would, with the user's own rights, and then
tell the ChangeRollout who did it and why (a request it records). The operator recognises a
restart (the stable template with only restartedAt changed) and rolls it out without a canary;
an undo to a template that was stable here is rolled out at once, past every gate, and the
template it replaces is refused until retried.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP
from slokeeper.cli.rollout_access import connect, fail, read_rollout
from slokeeper.kube.identity import current_user
from slokeeper.kube.rollout_commands import annotation, request_value
from slokeeper.kube.rollout_resource import set_annotation
from slokeeper.kube.rollout_target import read_target
from slokeeper.kube.target_pods import (
    DeploymentRevision,
    put_template,
    read_revisions,
    restart_pods,
)
from slokeeper.rollout.requests import Request
from slokeeper.rollout.workload import TargetMissingError

Common = Callable[[str, str], argparse.ArgumentParser]


def add_commands(common: Common) -> None:
    restart = common(
        "restart", "replace the stable pods one by one, without a canary (kubectl refuses a paused"
        " Deployment)",
    )  # fmt: skip
    restart.add_argument("--reason", default="", help="why (recorded)")
    restart.set_defaults(run=restart_target)
    undo = common(
        "undo", "go back to the previous known-good template now: no canary, no gate holds it"
    )
    undo.add_argument(
        "--to-revision",
        type=int,
        help="the Deployment revision to go back to (`kubectl rollout history deployment/NAME`);"
        " default: the latest template that was stable here",
    )
    undo.add_argument("--reason", default="", help="why (recorded)")
    undo.set_defaults(run=undo_target)


def _known_good(status: dict[str, Any]) -> list[str]:
    """Templates that were stable here, the latest first: the stable one, then for each change
    (newest first) the template it promoted and the one it began from."""
    known = [(status.get("stable") or {}).get("templateHash")]
    for change in status.get("history", []):
        if change.get("outcome") == "Promoted":
            known.append(change["revision"]["templateHash"])
        known.append(change.get("stableTemplateHash"))
    return [template for template in dict.fromkeys(known) if template]


def _undo_revision(
    revisions: list[DeploymentRevision], known: list[str], current: str, wanted: int | None
) -> DeploymentRevision | None:
    if wanted is not None:
        return next((r for r in revisions if r.number == wanted), None)
    by_template = {r.template_hash: r for r in revisions}
    return next(
        (by_template[t] for t in known if t != current and t in by_template),
        None,
    )


def _record(
    api: Any, namespace: str, args: argparse.Namespace, request: Request, template: str
) -> None:
    """Tell the ChangeRollout who did it, why, and to which template."""
    value = request_value(by=current_user(api), reason=args.reason, revision=template)
    set_annotation(api, namespace, args.name, annotation(request), value)


def restart_target(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    try:
        body = read_rollout(api, namespace, args.name)
        target = read_target(api, namespace, body["spec"]["targetRef"]["name"])
        status = body.get("status") or {}
        stable = (status.get("stable") or {}).get("templateHash")
        if stable not in (None, target.template_hash):
            print(
                f"deployment/{target.name} is in the middle of a change ({status.get('phase')}): "
                f"its template is not the stable one, whose pods are running. End the change "
                f"first: `slokeeper rollout abort {args.name} -n {namespace}`, or go back at "
                f"once: `slokeeper rollout undo {args.name} -n {namespace}`.",
                file=sys.stderr,
            )
            return 1
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        restarted = restart_pods(api, target.body, at)
        _record(api, namespace, args, Request.RESTART, restarted)
    except TargetMissingError as error:
        print(str(error), file=sys.stderr)
        return 1
    except ApiException as error:
        return fail(error, namespace, args.name)
    print(
        f"deployment.apps/{target.name} restarted: its pods are replaced one by one without a "
        f"canary (changerollout.{GROUP}/{args.name} records it)"
    )
    return 0


def undo_target(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    try:
        body = read_rollout(api, namespace, args.name)
        target = read_target(api, namespace, body["spec"]["targetRef"]["name"])
        known = _known_good(body.get("status") or {})
        chosen = _undo_revision(
            read_revisions(api, target.body), known, target.template_hash, args.to_revision
        )
        if chosen is None:
            which = f"revision {args.to_revision}" if args.to_revision else "a known-good revision"
            print(
                f"deployment/{target.name}: {which} to go back to was not found; see "
                f"`kubectl rollout history deployment/{target.name} -n {namespace}` and pass "
                f"--to-revision.",
                file=sys.stderr,
            )
            return 1
        if chosen.template_hash == target.template_hash:
            print(f"deployment/{target.name} already runs revision {chosen.number}'s template")
            return 0
        undone = put_template(api, target.body, chosen.template)
        _record(api, namespace, args, Request.UNDO, undone)
    except TargetMissingError as error:
        print(str(error), file=sys.stderr)
        return 1
    except ApiException as error:
        return fail(error, namespace, args.name)
    if chosen.template_hash in known:
        print(
            f"deployment.apps/{target.name} rolled back to revision {chosen.number}: rolled out "
            f"now, without a canary or a gate; template {target.template_hash} is refused until "
            f"`slokeeper rollout retry {args.name}`"
        )
    else:
        print(
            f"deployment.apps/{target.name} set to revision {chosen.number}, which was never "
            f"stable under changerollout.{GROUP}/{args.name}: it goes through the canary and the "
            f"gates like any change"
        )
    return 0
