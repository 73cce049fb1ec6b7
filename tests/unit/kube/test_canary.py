"""The canary Deployment shares the target's pod labels, never its pods, and never edits it."""

from __future__ import annotations

import copy
from typing import Any

from slokeeper.api.references import ObjectRef
from slokeeper.kube.canary import (
    TEMPLATE_ANNOTATION,
    TRACK_LABEL,
    canary_deployment,
    template_hash,
)

TARGET: dict[str, Any] = {
    "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
    "spec": {
        "replicas": 20,
        "selector": {"matchLabels": {"app": "checkout"}},
        "template": {
            "metadata": {"labels": {"app": "checkout"}, "creationTimestamp": None},
            "spec": {"containers": [{"name": "checkout", "image": "shop/checkout:1.1"}]},
        },
    },
}
OWNER = ObjectRef("ChangeRollout", "shop", "checkout", "uid-1")


def _candidate() -> dict[str, Any]:
    template = copy.deepcopy(TARGET["spec"]["template"])
    template["spec"]["containers"][0]["image"] = "shop/checkout:1.2"
    return template


def test_the_canary_carries_the_service_labels_plus_its_track() -> None:
    canary = canary_deployment(TARGET, _candidate(), 1, OWNER)
    labels = canary["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "checkout", TRACK_LABEL: "canary"}
    assert canary["spec"]["selector"]["matchLabels"] == {"app": "checkout", TRACK_LABEL: "canary"}
    assert canary["metadata"]["name"] == "checkout-canary"
    assert canary["spec"]["replicas"] == 1
    assert canary["metadata"]["ownerReferences"][0]["kind"] == "ChangeRollout"
    assert canary["metadata"]["annotations"][TEMPLATE_ANNOTATION] == template_hash(_candidate())


def test_building_the_canary_leaves_the_target_and_template_untouched() -> None:
    before, candidate = copy.deepcopy(TARGET), _candidate()
    candidate_before = copy.deepcopy(candidate)
    canary_deployment(TARGET, candidate, 3, OWNER)
    assert before == TARGET
    assert candidate == candidate_before


def test_template_hashes_tell_changes_apart_and_ignore_server_noise() -> None:
    stable = TARGET["spec"]["template"]
    assert template_hash(stable) != template_hash(_candidate())
    noisy = copy.deepcopy(stable)
    noisy["metadata"]["creationTimestamp"] = "2026-11-25T12:00:00Z"
    assert template_hash(noisy) == template_hash(stable)
    reordered = {"spec": stable["spec"], "metadata": stable["metadata"]}
    assert template_hash(reordered) == template_hash(stable)
