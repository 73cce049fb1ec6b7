"""Puts an SLO's rules where Prometheus finds them: a PrometheusRule when the prometheus-operator
API is served, otherwise a ConfigMap in rule-file format labelled for a rule loader.

Both are owned by the SLO (deleted with it), created first (most are new) and otherwise replaced
whole, guarded by resourceVersion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.prometheus_rules import dump_yaml, prometheus_rule, rule_file
from slokeeper.api.references import ObjectRef
from slokeeper.slo.objective import Objective
from slokeeper.slo.rules import RuleGroup
from slokeeper.slo.rules_object import RulesObjectTakenError

RULES_LABEL = "slokeeper.dev/rules"
MANAGED_BY = {"app.kubernetes.io/managed-by": "slokeeper"}
PROMETHEUS_RULE = ("monitoring.coreos.com", "v1", "prometheusrules")


def _ensure_owned(
    owners: list[dict[str, Any]] | None, owner: ObjectRef, kind: str, body: dict[str, Any]
) -> None:
    """Replace only what this SLO owns: a ConfigMap or PrometheusRule someone else named like
    its rules object is never overwritten."""
    if not any(ref.get("uid") == owner.uid for ref in owners or ()):
        raise RulesObjectTakenError(
            f"{kind} {owner.namespace}/{body['metadata']['name']} exists and is not this SLO's "
            f"rules object: slokeeper leaves it alone and writes no rules until it is renamed or "
            f"deleted"
        )


def rules_object_name(objective: Objective) -> str:
    return f"{objective.name}-slo"


def rules_configmap(objective: Objective, group: RuleGroup, owner: ObjectRef) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(
            name=rules_object_name(objective),
            namespace=objective.namespace,
            labels={**MANAGED_BY, RULES_LABEL: "true", "slokeeper.dev/slo": objective.name},
            owner_references=[
                client.V1OwnerReference(
                    api_version=owner.api_version,
                    kind=owner.kind,
                    name=owner.name,
                    uid=owner.uid,
                    controller=True,
                    block_owner_deletion=False,
                )
            ],
        ),
        data={f"{objective.namespace}-{objective.name}.yaml": dump_yaml([rule_file([group])])},
    )


class RulesWriter:
    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._core = client.CoreV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._prometheus_rule_served: bool | None = None

    @property
    def kind(self) -> str:
        return "PrometheusRule" if self.prometheus_rule_served() else "ConfigMap"

    def prometheus_rule_served(self) -> bool:
        """Whether the cluster serves PrometheusRule (asked once per operator run)."""
        if self._prometheus_rule_served is None:
            group, version, plural = PROMETHEUS_RULE
            try:
                resources = self._custom.get_api_resources(group, version)
            except ApiException as error:
                if error.status != 404:
                    raise
                self._prometheus_rule_served = False
            else:
                names = {resource.name for resource in resources.resources or []}
                self._prometheus_rule_served = plural in names
        return self._prometheus_rule_served

    def apply(self, objective: Objective, group: RuleGroup, owner: ObjectRef) -> str:
        """Create or replace the rules object; returns its kind."""
        if self.prometheus_rule_served():
            body = prometheus_rule(objective, group)
            body["metadata"]["ownerReferences"] = [owner.owner_reference()]
            self._put_prometheus_rule(objective.namespace, body, owner)
            return "PrometheusRule"
        configmap = rules_configmap(objective, group, owner)
        self._put_configmap(objective.namespace, rules_object_name(objective), configmap, owner)
        return "ConfigMap"

    def _put_prometheus_rule(self, namespace: str, body: dict[str, Any], owner: ObjectRef) -> None:
        group, version, plural = PROMETHEUS_RULE
        name = body["metadata"]["name"]
        if _created(
            lambda: self._custom.create_namespaced_custom_object(
                group, version, namespace, plural, body
            )
        ):
            return
        existing: Any = self._custom.get_namespaced_custom_object(
            group, version, namespace, plural, name
        )
        _ensure_owned(existing["metadata"].get("ownerReferences"), owner, "PrometheusRule", body)
        body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
        self._custom.replace_namespaced_custom_object(group, version, namespace, plural, name, body)

    def _put_configmap(
        self, namespace: str, name: str, configmap: client.V1ConfigMap, owner: ObjectRef
    ) -> None:
        if _created(lambda: self._core.create_namespaced_config_map(namespace, configmap)):
            return
        current = self._core.read_namespaced_config_map(name, namespace)
        owners = [
            {"uid": ref.uid}
            for ref in (current.metadata and current.metadata.owner_references) or ()
        ]
        _ensure_owned(owners, owner, "ConfigMap", {"metadata": {"name": name}})
        if current.metadata is not None and configmap.metadata is not None:
            configmap.metadata.resource_version = current.metadata.resource_version
        self._core.replace_namespaced_config_map(name, namespace, configmap)


def _created(create: Callable[[], object]) -> bool:
    """Create first: a new SLO's rules object then costs one request (a read first made it two,
    5,000 requests more when 5,000 SLOs are applied at once); False when it exists already."""
    try:
        create()
    except ApiException as error:
        if error.status != 409:
            raise
        return False
    return True
