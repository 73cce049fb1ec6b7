"""The kopf handlers of the operator itself: login, the indexes of SLOs and MaintenanceWindows,
and startup and cleanup, which start and stop the tasks of the ``Runtime`` that the composition
root (``handlers.composition``) put in kopf's memo. ChangeRollouts have theirs in
``handlers.rollouts``.

No change handlers or timers on SLOs (a timer per object costs a task, a finalizer and a query
each); one loop reads the index every interval instead (``handlers.background``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kopf

from slokeeper.api.base import GROUP, VERSION
from slokeeper.api.maintenance import NamespaceMaintenanceWindow
from slokeeper.handlers.runtime import runtime
from slokeeper.handlers.settings import configure
from slokeeper.loops.slo.record import SLORecord, slo_record
from slokeeper.slo.maintenance import SharedWindow

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_cluster_login(
    settings: kopf.OperatorSettings,
    service_account: Path = SERVICE_ACCOUNT,
    environ: Mapping[str, str] = os.environ,
) -> kopf.ConnectionInfo | None:
    """The Pod's ServiceAccount and the API server at the address the kubelet gives every Pod
    ($KUBERNETES_SERVICE_HOST/_PORT), as client-go and the kubernetes client do. kopf's own
    login_with_service_account asks DNS for kubernetes.default.svc: an operator that stops when
    cluster DNS is down (or absent, as on the test node) would stop when it is needed most."""
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT")
    token_file = service_account / "token"
    if not (host and port and token_file.is_file()):
        return None
    namespace_file, ca_file = service_account / "namespace", service_account / "ca.crt"
    return kopf.ConnectionInfo(
        server=f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}",
        ca_path=str(ca_file) if ca_file.is_file() else None,
        token=token_file.read_text().strip() or None,  # read again at each re-login: it rotates
        default_namespace=namespace_file.read_text().strip() if namespace_file.is_file() else None,
        trust_env=settings.networking.trust_env,
    )


@kopf.on.login()
def login(*, settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod its ServiceAccount, elsewhere $KUBECONFIG (read when called, not at import)."""
    return in_cluster_login(settings) or kopf.login_with_kubeconfig(settings=settings, **kwargs)


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
