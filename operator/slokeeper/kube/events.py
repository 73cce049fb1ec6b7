"""Posts Events on slokeeper's resources: every decision, with a reason an SRE can search for."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slokeeper.api.references import ObjectRef

log = logging.getLogger(__name__)
COMPONENT = "slokeeper"


class EventRecorder:
    def __init__(self, api: client.ApiClient) -> None:
        self._core = client.CoreV1Api(api)

    def record(self, about: ObjectRef, reason: str, message: str, warning: bool = False) -> None:
        now = datetime.now(UTC)
        event = client.CoreV1Event(
            metadata=client.V1ObjectMeta(generate_name=f"{about.name}.", namespace=about.namespace),
            involved_object=client.V1ObjectReference(
                api_version=about.api_version,
                kind=about.kind,
                name=about.name,
                namespace=about.namespace,
                uid=about.uid,
            ),
            reason=reason,
            message=message[:1024],
            type="Warning" if warning else "Normal",
            source=client.V1EventSource(component=COMPONENT),
            reporting_component=COMPONENT,
            reporting_instance=COMPONENT,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        try:
            self._core.create_namespaced_event(about.namespace, event)
        except ApiException as error:
            # An Event is a notice, not state: losing one must not stop the loop.
            log.warning(
                "could not post Event %s on %s/%s: %s",
                reason,
                about.namespace,
                about.name,
                error.reason,
            )
