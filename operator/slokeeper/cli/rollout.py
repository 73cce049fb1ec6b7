"""``slokeeper rollout``: look at a ChangeRollout, and ask it to approve, abort, promote, retry,
pause or resume — signed with the name the API server knows you by."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.base import GROUP
from slokeeper.cli import rollout_get, rollout_incident
from slokeeper.cli.rollout_access import connect, fail, read_rollout, target_template
from slokeeper.cli.rollout_outcome import EXIT_TIMED_OUT, change_settled, exit_code
from slokeeper.cli.rollout_view import (
    LivePanel,
    RolloutView,
    describe,
    history_table,
    panel,
)
from slokeeper.cli.settings_table import duration
from slokeeper.kube.identity import current_user
from slokeeper.kube.rollout_commands import (
    PAUSED_ANNOTATION,
    annotation,
    request_value,
    role_annotation,
    role_approval_value,
)
from slokeeper.kube.rollout_resource import set_annotation
from slokeeper.rollout.requests import Request
from slokeeper.slo.durations import duration_seconds


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rollout", help="look at or act on a ChangeRollout")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def common(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("name", help="the ChangeRollout")
        sub.add_argument("-n", "--namespace", help="namespace (default: the context's)")
        sub.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
        sub.add_argument("--context", help="kubeconfig context")
        return sub

    status = common("status", "the change in progress: phase, step, weight, latest analysis")
    status.add_argument("-w", "--watch", action="store_true", help="follow until the change ends")
    status.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    status.add_argument(
        "--timeout", type=duration, default="30m", help="how long to watch at most (default 30m)"
    )
    status.set_defaults(run=show_status)
    history = common("history", "every finished change: outcome, steps, approvals, timing")
    history.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    history.set_defaults(run=show_history)
    for request, help_text in (
        (Request.APPROVE, "approve the change waiting at the gates"),
        (Request.ABORT, "roll the running canary back now"),
        (
            Request.PROMOTE,
            "skip the current step's pause and analysis: the next step now, or the promotion "
            "from the last step (--full: every remaining step; a freeze holds a promotion "
            "without --force)",
        ),
        (Request.RETRY, "run a refused template again"),
        (Request.OVERRIDE, "let the change past a freeze, a spent budget or a closed window"),
        (
            Request.DRILL,
            "rehearse a rollback: a canary of the stable template, rolled back, time to restore "
            "recorded",
        ),
    ):
        asked = common(request.value, help_text)
        asked.add_argument("--reason", required=request is Request.OVERRIDE, default="", help="why")
        if request is Request.PROMOTE:
            asked.add_argument("--full", action="store_true", help="skip every remaining step")
            asked.add_argument(
                "--force", action="store_true", help="every remaining step, past the gates too"
            )
        if request is Request.APPROVE:
            asked.add_argument(
                "--role",
                help="approve in this role of spec.gates.approval.roles (the API server checks "
                "that you are in it)",
            )
        asked.set_defaults(run=ask, request=request)
    pause = common("pause", "start nothing and advance nothing until resumed")
    pause.add_argument("--reason", default="", help="why")
    pause.set_defaults(run=set_pause, paused=True)
    resume = common("resume", "lift a pause")
    resume.set_defaults(run=set_pause, paused=False)
    rollout_incident.add_commands(common)
    rollout_get.add_commands(actions)


def _print(status: dict[str, Any], output: str) -> None:
    if output == "json":
        print(json.dumps(status, indent=2))
    elif output == "yaml":
        print(yaml.safe_dump(status, sort_keys=False), end="")
    else:
        print(describe(status))


def show_status(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    try:
        body = read_rollout(api, namespace, args.name)
        status = body.get("status") or {}
        target = target_template(api, namespace, body)
        if not args.watch:
            if args.output == "table":
                print("\n".join(panel(body)))
            else:
                _print(status, args.output)
            return exit_code(status, target, watched=False)
        # On a terminal the panel is redrawn in place; into a log, a line per change.
        live = sys.stdout.isatty() and args.output == "table"
        view: LivePanel | RolloutView = LivePanel(sys.stdout) if live else RolloutView(sys.stdout)
        deadline = time.monotonic() + duration_seconds(args.timeout)
        while True:
            if isinstance(view, LivePanel):
                view.show(body)
            else:
                view.show(status)
            if change_settled(status, target) or time.monotonic() > deadline:
                break
            time.sleep(1)
            body = read_rollout(api, namespace, args.name)
            status = body.get("status") or {}
    except ApiException as error:
        return fail(error, namespace, args.name)
    if args.output != "table":
        _print(status, args.output)
    code = exit_code(status, target, watched=True)
    if code == EXIT_TIMED_OUT:
        print(
            f"ChangeRollout {namespace}/{args.name}: still {status.get('phase')} after "
            f"{args.timeout} of --watch",
            file=sys.stderr,
        )
    return code


def show_history(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    try:
        status = read_rollout(api, namespace, args.name).get("status") or {}
    except ApiException as error:
        return fail(error, namespace, args.name)
    if args.output == "table":
        print("\n".join(history_table(status)))
    else:
        _print(
            {"history": status.get("history", []), "changeCounts": status.get("changeCounts")},
            args.output,
        )
    return 0


def _waiting_change(api: client.ApiClient, namespace: str, name: str) -> str | None:
    """The template of the change the ChangeRollout has under way (what an approval or an
    override is for: it counts for that template only)."""
    current = (read_rollout(api, namespace, name).get("status") or {}).get("current") or {}
    revision = (current.get("revision") or {}).get("templateHash")
    return str(revision) if revision else None


def ask(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    request: Request = args.request
    revision = None
    try:
        if request in (Request.APPROVE, Request.OVERRIDE) and not getattr(args, "role", None):
            revision = _waiting_change(api, namespace, args.name)
            if revision is None:
                print(
                    f"ChangeRollout {namespace}/{args.name}: no change is waiting to "
                    f"{request.value}",
                    file=sys.stderr,
                )
                return 1
    except ApiException as error:
        return fail(error, namespace, args.name)
    value = request_value(
        by=current_user(api),
        reason=args.reason,
        force=getattr(args, "force", False),
        one_step=request is Request.PROMOTE and not (args.full or args.force),
        revision=revision,
    )
    key = annotation(request)
    role = getattr(args, "role", None)
    if role:
        key = role_annotation(role)
        value = role_approval_value(by=current_user(api), reason=args.reason)
    try:
        set_annotation(api, namespace, args.name, key, value)
    except ApiException as error:
        return fail(error, namespace, args.name)
    asked = f"approval as {role}" if role else request.value
    if request is Request.PROMOTE:
        asked += (
            " of every step, past the gates"
            if args.force
            else " of every step"
            if args.full
            else " of the current step"
        )
    print(f"changerollout.{GROUP}/{args.name}: {asked} requested ({value})")
    return 0


def set_pause(args: argparse.Namespace) -> int:
    api, namespace = connect(args)
    value = (
        request_value(by=current_user(api), reason=getattr(args, "reason", ""))
        if args.paused
        else None
    )
    try:
        set_annotation(api, namespace, args.name, PAUSED_ANNOTATION, value)
    except ApiException as error:
        return fail(error, namespace, args.name)
    print(f"changerollout.{GROUP}/{args.name}: {'paused' if args.paused else 'resumed'}")
    return 0
