"""kopf settings for an operator that must stay cheap with thousands of SLOs.

Called from the operator's startup handler (the ``slokeeper run`` command wires it). The choices
follow ``shared/research/kopf-at-scale.md``: kopf's own bookkeeping lives in annotations under our
domain, its log lines are not posted as Events (our Events are decisions, written on purpose),
watch streams are paged and restarted when silent, and no request may hang the reconcile loops.
"""

from __future__ import annotations

import logging

import kopf

from slokeeper.api.base import GROUP

# Seconds. A watch that hears nothing (not even a bookmark) for this long is re-established:
# load balancers drop idle streams silently.
WATCH_INACTIVITY_TIMEOUT = 70.0
WATCH_SERVER_TIMEOUT = 600
REQUEST_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0
LIST_CHUNK_SIZE = 500


def configure(settings: kopf.OperatorSettings) -> None:
    """Apply slokeeper's operator settings in place."""
    settings.posting.level = logging.WARNING
    settings.posting.reporting_component = "slokeeper"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.watching.inactivity_timeout = WATCH_INACTIVITY_TIMEOUT
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.chunk_size = LIST_CHUNK_SIZE
    settings.networking.request_timeout = REQUEST_TIMEOUT
    settings.networking.connect_timeout = CONNECT_TIMEOUT
