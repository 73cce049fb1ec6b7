"""The operator keeps kopf's bookkeeping under slokeeper.dev and never hangs on a request."""

from __future__ import annotations

import logging

import kopf

from slokeeper.handlers.settings import configure


def test_kopf_bookkeeping_is_under_our_domain_and_quiet() -> None:
    settings = kopf.OperatorSettings()
    configure(settings)
    assert settings.persistence.finalizer == "slokeeper.dev/finalizer"
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert settings.persistence.progress_storage.prefix == "slokeeper.dev"
    # Only warnings and errors of kopf's own become Events; our decisions are posted explicitly.
    assert settings.posting.level == logging.WARNING


def test_no_request_or_watch_can_hang_forever() -> None:
    settings = kopf.OperatorSettings()
    defaults = kopf.OperatorSettings()
    configure(settings)
    assert settings.networking.request_timeout is not None
    assert defaults.networking.request_timeout is not None
    assert settings.networking.request_timeout < defaults.networking.request_timeout
    assert settings.watching.inactivity_timeout is not None
    assert settings.watching.chunk_size is not None
