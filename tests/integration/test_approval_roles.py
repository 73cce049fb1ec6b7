"""User story: our operations guide says a High-risk change needs an engineering manager and the
on-call engineer, two different people. Approvals are annotations that the API server vouches
for (the chart's ValidatingAdmissionPolicy): people are real users with client certificates
signed by the cluster's CA, their groups in O=. Someone outside the role, someone naming another
person, and one person taking a second role are refused by the API server, saying why; the
change starts once both roles have approved. An approval given while one template waited does
not count for another swapped in before the operator saw it (issue 22, point 6, as the people
who would do it: a developer swapping the image, on-call approving)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from helm import rendered
from identities import run_as, user_kubeconfig
from polling import eventually
from resources import (
    adopt_checkout,
    availability_slo,
    change_rollout,
    events,
    past_the_template_change_second,
    rollout_status,
)
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import Toolchain
from slokeeper.simulator.server import TrafficSimulator
from workloads import set_image

ROLES = {
    "requiredFor": ["High"],
    "roles": [
        {"name": "on-call", "groups": ["oncall"]},
        {"name": "engineering-manager", "groups": ["managers"]},
    ],
    "riskRoles": {"high": ["engineering-manager", "on-call"]},
}
PEOPLE = {
    "erin": ["developers"],
    "dana": ["oncall"],
    "frank": ["oncall", "managers"],
    "carol": ["managers"],
    "oidc:grace": ["oncall"],  # usernames may hold colons (OIDC prefixes, ServiceAccounts)
}


@pytest.fixture(scope="module")
def approval_policy(toolchain: Toolchain, cluster: LocalCluster) -> None:
    policy = rendered(toolchain, show_only="templates/approval-policy.yaml")
    cluster.kubectl("apply", "-f", "-", input_text=policy)


def kubeconfigs(cluster: LocalCluster, namespace: str, directory: Path) -> dict[str, Path]:
    """Each person's kubeconfig; their groups may read ChangeRollouts and annotate them here."""
    cluster.kubectl(
        "create", "rolebinding", "approvers", "--clusterrole=slokeeper-approver", "-n", namespace,
        *[f"--group={g}" for g in ("developers", "oncall", "managers")],
    )  # fmt: skip
    return {
        user: user_kubeconfig(cluster, user, groups, directory / f"{user}.kubeconfig")
        for user, groups in PEOPLE.items()
    }


def annotate_as(
    kubeconfig: Path, cluster: LocalCluster, namespace: str, key: str, value: str
) -> Any:
    return subprocess.run(
        [str(cluster.toolchain.kubectl), "--kubeconfig", str(kubeconfig), "annotate", "crollout",
         "checkout", "-n", namespace, "--overwrite", f"slokeeper.dev/{key}={value}"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def approve_with_cli(kubeconfig: Path, namespace: str, role: str, reason: str) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "rollout", "approve", "checkout",
         "-n", namespace, "--role", role, "--reason", reason, "--kubeconfig", str(kubeconfig)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def recorded(status: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (a["by"], a.get("role", "")) for a in (status.get("current") or {}).get("approvals", [])
    ]


def test_approvals_by_role_are_vouched_for_by_the_api_server(
    approval_policy: None,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
    tmp_path: Path,
) -> None:
    people = kubeconfigs(cluster, namespace, tmp_path)
    rollout = change_rollout(namespace, risk="High", gates={"approval": ROLES})
    adopt_checkout(cluster, api_client, namespace, availability_slo(namespace), rollout)
    set_image(cluster, namespace, "1.2")
    waiting = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "AwaitingApproval",
        "the High-risk change waiting for approvals",
    )
    assert "waiting for engineering-manager, on-call" in waiting["message"]

    outsider = annotate_as(people["erin"], cluster, namespace, "approve.on-call", "erin")
    assert outsider.returncode != 0
    assert "erin (groups: developers, system:authenticated) may not approve as on-call" in (
        outsider.stderr
    )
    impostor = annotate_as(people["dana"], cluster, namespace, "approve.on-call", "carol: ok")
    assert impostor.returncode != 0
    assert "an approval must name the person who gives it: you are dana" in impostor.stderr

    past_the_template_change_second(cluster, namespace)
    first = approve_with_cli(people["frank"], namespace, "on-call", "paged in, looks fine")
    assert first.returncode == 0, first.stderr
    after_first = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: ("frank", "on-call") in recorded(s),
        "frank's approval as on-call recorded",
    )
    assert after_first["phase"] == "AwaitingApproval"
    assert "waiting for engineering-manager (given: frank as on-call)" in after_first["message"]

    second_role = approve_with_cli(people["frank"], namespace, "engineering-manager", "me too")
    assert second_role.returncode == 1
    assert "frank already approves this change in another role" in second_role.stderr

    manager = approve_with_cli(people["carol"], namespace, "engineering-manager", "CHG-12")
    assert manager.returncode == 0, manager.stderr
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Progressing",
        "the change started once both roles approved",
    )
    assert sorted(recorded(started)) == [("carol", "engineering-manager"), ("frank", "on-call")]
    reasons = {a["by"]: a["reason"] for a in started["current"]["approvals"]}
    assert reasons == {"frank": "paged in, looks fine", "carol": "CHG-12"}

    # A username with colons is compared whole: grace may approve as herself, and a prefix of
    # her name is someone else.
    grace = people["oidc:grace"]
    as_prefix = annotate_as(grace, cluster, namespace, "approve.on-call", "oidc: grace")
    assert as_prefix.returncode != 0
    assert "you are oidc:grace" in as_prefix.stderr
    as_herself = annotate_as(grace, cluster, namespace, "approve.on-call", "oidc:grace: seen")
    assert as_herself.returncode == 0, as_herself.stderr


def test_an_approval_given_for_one_template_does_not_count_for_one_swapped_in(
    approval_policy: None,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
    tmp_path: Path,
) -> None:
    people = kubeconfigs(cluster, namespace, tmp_path)
    cluster.kubectl(
        "create", "role", "deployer", "-n", namespace, "--verb=get,list,patch",
        "--resource=deployments",
    )  # fmt: skip
    cluster.kubectl(
        "create", "rolebinding", "deployer", "-n", namespace, "--role=deployer", "--user=erin"
    )
    roles = {**ROLES, "riskRoles": {"high": ["on-call"]}}
    rollout = change_rollout(namespace, risk="High", gates={"approval": roles})
    adopt_checkout(cluster, api_client, namespace, availability_slo(namespace), rollout)

    def ship(version: str) -> None:
        shipped = run_as(
            people["erin"], cluster, "set", "image", "deployment/checkout",
            f"checkout=shop/checkout:{version}", "-n", namespace,
        )  # fmt: skip
        assert shipped.returncode == 0, shipped.stderr

    ship("6.6.6-evil")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "AwaitingApproval",
        "6.6.6-evil waiting for on-call",
    )
    past_the_template_change_second(cluster, namespace)
    # dana approves 6.6.6-evil; erin swaps 9.9.9-other in before the operator reads either.
    os.kill(operator_process.process.pid, signal.SIGSTOP)
    try:
        given = approve_with_cli(people["dana"], namespace, "on-call", "reviewed 6.6.6")
        ship("9.9.9-other")
        swapped = datetime.now(UTC)
    finally:
        os.kill(operator_process.process.pid, signal.SIGCONT)
    assert given.returncode == 0, given.stderr
    refused = eventually(
        lambda: [
            e["message"]
            for e in events(cluster, namespace, "ChangeRollout")
            if e["reason"] == "ApprovalRefused"
        ],
        bool,
        "dana's approval for 6.6.6-evil to be refused for 9.9.9-other",
    )
    assert (
        "dana cannot approve as on-call: it was given before the template changed" in (refused[0])
    )
    waiting = rollout_status(cluster, namespace)
    assert waiting["phase"] == "AwaitingApproval"
    assert waiting["current"]["revision"]["images"] == ["shop/checkout:9.9.9-other"]
    assert recorded(waiting) == []
    eventually(
        lambda: datetime.now(UTC).replace(microsecond=0),
        lambda now: now > swapped.replace(microsecond=0),
        "the second after the swap",
    )
    again = approve_with_cli(people["dana"], namespace, "on-call", "reviewed 9.9.9")
    assert again.returncode == 0, again.stderr
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Progressing",
        "dana's approval of 9.9.9-other to start it",
    )
    assert started["current"]["revision"]["images"] == ["shop/checkout:9.9.9-other"]
    assert recorded(started) == [("dana", "on-call")]


def test_a_username_with_colons_approves_in_a_role(
    approval_policy: None,
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
    tmp_path: Path,
) -> None:
    """Issue 23, point 4: an OIDC-prefixed name (oidc:grace) approves through the CLI, the API
    server admits it, and the operator counts it under the whole name: the change starts."""
    people = kubeconfigs(cluster, namespace, tmp_path)
    roles = {**ROLES, "riskRoles": {"high": ["on-call"]}}
    rollout = change_rollout(namespace, risk="High", gates={"approval": roles})
    adopt_checkout(cluster, api_client, namespace, availability_slo(namespace), rollout)
    set_image(cluster, namespace, "1.2")
    eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "AwaitingApproval",
        "the High-risk change waiting for on-call",
    )
    past_the_template_change_second(cluster, namespace)
    given = approve_with_cli(people["oidc:grace"], namespace, "on-call", "seen: looks fine")
    assert given.returncode == 0, given.stderr
    started = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: s.get("phase") == "Progressing",
        "oidc:grace's approval to start the change",
    )
    assert recorded(started) == [("oidc:grace", "on-call")]
    assert started["current"]["approvals"][0]["reason"] == "seen: looks fine"
