"""The Alertmanager client distrusts answers as the Prometheus client does: a huge answer is
cut off at the cap with a short message, and an error echoing credentials is redacted."""

from __future__ import annotations

import pytest

from hostile_prometheus import HostilePrometheus
from slokeeper.alertmanager.silences import AlertmanagerError, AlertmanagerSilences
from slokeeper.transport.response_limit import MIB


def test_a_huge_answer_is_cut_off_at_the_cap() -> None:
    with HostilePrometheus(huge_bytes=512 * MIB) as server:
        silences = AlertmanagerSilences(server.url, max_response_bytes=2 * MIB)
        with pytest.raises(AlertmanagerError) as raised:
            silences.list()
        server.__exit__(None, None, None)
    assert str(raised.value) == (
        f"Alertmanager at {server.url} did not answer: "
        "answer larger than 2 MiB, the most slokeeper reads"
    )
    (sent,) = server.counted()
    assert sent < 64 * MIB


def test_credentials_echoed_in_an_error_are_redacted() -> None:
    with HostilePrometheus(error_status=401) as server:
        url = server.url.replace("http://", "http://am-user:am-s3cret@")
        with pytest.raises(AlertmanagerError) as raised:
            AlertmanagerSilences(url).list()
    assert server.authorizations[0].startswith("Basic ")  # requests sent the URL's user part
    message = str(raised.value)
    assert "HTTP 401" in message
    assert "[redacted]" in message
    assert "am-s3cret" not in message
    assert server.authorizations[0][6:] not in message
