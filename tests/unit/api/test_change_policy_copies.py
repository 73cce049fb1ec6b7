"""The cluster-wide default ChangePolicy: which policy governs a namespace, and the copy of the
default slokeeper keeps there (kube.rollout_resource.read_policy, kube.policy_copies)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.change_policy import COPIED_FROM_LABEL
from slokeeper.kube.rollout_resource import RolloutStore

OWN = "slokeeper-system"


class FakeCustomObjects:
    """ChangePolicies by namespace, as the API server would keep them."""

    def __init__(self, **policies: dict[str, Any]) -> None:
        self.policies = {ns: copy.deepcopy(p) for ns, p in policies.items()}
        self.writes: list[tuple[str, str]] = []

    def get_namespaced_custom_object(self, *args: str) -> dict[str, Any]:
        namespace = args[2]
        if namespace not in self.policies:
            raise ApiException(status=404)
        return copy.deepcopy(self.policies[namespace])

    def create_namespaced_custom_object(self, *args: Any) -> None:
        namespace, body = args[2], args[4]
        self.writes.append(("create", namespace))
        self.policies[namespace] = {
            **body,
            "metadata": {**body["metadata"], "resourceVersion": "1"},
        }

    def replace_namespaced_custom_object(self, *args: Any) -> None:
        namespace, body = args[2], args[5]
        self.writes.append(("replace", namespace))
        self.policies[namespace] = body

    def delete_namespaced_custom_object(self, *args: Any, **_: Any) -> None:
        self.writes.append(("delete", args[2]))
        del self.policies[args[2]]


def policy(namespace: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    metadata = {"name": "default", "namespace": namespace, "resourceVersion": "7"}
    return {"metadata": {**metadata, "labels": labels or {}}, "spec": spec}


def store(fake: FakeCustomObjects) -> RolloutStore:
    found = RolloutStore(client.ApiClient(), own_namespace=OWN)
    found._custom = fake  # type: ignore[assignment]
    found._copies._custom = fake  # type: ignore[assignment]
    return found


def test_a_namespace_without_a_policy_is_governed_by_the_default_and_gets_a_labelled_copy() -> None:
    fake = FakeCustomObjects(**{OWN: policy(OWN, minimumRisk="High")})
    governing = store(fake).read_policy("shop")
    assert governing is not None
    assert governing["metadata"]["namespace"] == OWN
    assert fake.policies["shop"]["metadata"]["labels"] == {COPIED_FROM_LABEL: OWN}
    assert fake.policies["shop"]["spec"] == {"minimumRisk": "High"}
    store(fake).read_policy("shop")
    assert fake.writes == [("create", "shop")]  # in line: not written again


def test_a_stale_copy_is_brought_in_line_and_deleted_once_the_default_goes() -> None:
    stale = policy("shop", {COPIED_FROM_LABEL: OWN}, minimumRisk="Low")
    fake = FakeCustomObjects(**{OWN: policy(OWN, minimumRisk="High"), "shop": stale})
    store(fake).read_policy("shop")
    assert fake.policies["shop"]["spec"] == {"minimumRisk": "High"}
    del fake.policies[OWN]
    assert store(fake).read_policy("shop") is None
    assert fake.writes == [("replace", "shop"), ("delete", "shop")]


@pytest.mark.parametrize("own_namespace", ["", "shop"])
def test_a_namespace_s_own_policy_governs_it_and_is_never_written(own_namespace: str) -> None:
    own = policy("shop", minimumRisk="Medium")
    fake = FakeCustomObjects(**{OWN: policy(OWN, minimumRisk="High"), "shop": own})
    assert store(fake).read_policy("shop") == own
    assert fake.writes == []
    without_default = RolloutStore(client.ApiClient(), own_namespace=own_namespace)
    without_default._custom = fake  # type: ignore[assignment]
    assert without_default.read_policy("shop") == own
