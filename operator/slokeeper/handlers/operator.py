"""The kopf handlers of the operator itself: login, the indexes of SLOs and MaintenanceWindows,
and startup and cleanup, which start and stop the tasks of the ``Runtime`` that the composition
root (``handlers.composition``) put in kopf's memo. ChangeRollouts have theirs in
``handlers.rollouts``.

No change handlers or timers on SLOs (a timer per object costs a task, a finalizer and a query
each); one loop reads the index every interval instead (``handlers.background``).
"""

from __future__ import annotations

from typing import Any

import kopf

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.maintenance import NamespaceMaintenanceWindow
from slokeeper.handlers.runtime import runtime
from slokeeper.handlers.settings import configure
from slokeeper.loops.slo.record import SLORecord, slo_record
from slokeeper.slo.maintenance import SharedWindow


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod its ServiceAccount, elsewhere $KUBECONFIG (read when called, not at import)."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.index(GROUP, VERSION, "servicelevelobjectives")
async def slo_index(
    *, namespace: str | None, name: str, uid: str, meta: Any, body: Any, status: Any, **_: Any
) -> dict[tuple[str, str], SLORecord]:
    namespace = namespace or "default"
    return {
        (namespace, name): slo_record(
            namespace=namespace,
            name=name,
            uid=uid,
            generation=int(meta.get("generation", 0)),
            spec=body["spec"],
            status=status,
            labels=meta.get("labels"),
        )
    }


@kopf.index(GROUP, VERSION, NamespaceMaintenanceWindow.plural)
async def maintenance_index(
    *, namespace: str | None, name: str, body: Any, **_: Any
) -> dict[str, SharedWindow]:
    """Each namespace's MaintenanceWindow objects (the API server has validated them)."""
    window = NamespaceMaintenanceWindow.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": dict(body["spec"])}
    )
    return {namespace or "default": window.to_shared_window()}


@kopf.on.startup()
async def start(*, settings: kopf.OperatorSettings, memo: Any, **kwargs: Any) -> None:
    """kopf passes each index by its handler's name."""
    configure(settings)
    runtime(memo).start(kwargs["slo_index"], kwargs["maintenance_index"], kwargs["rollout_targets"])


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    await runtime(memo).stop()
