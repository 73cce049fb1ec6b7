"""Every request of the operator's Kubernetes client is bounded although no call site names a
timeout: an API server that never answers fails the call after the read timeout, one that answers
a byte at a time fails it at the total deadline, and a prompt answer is read and decoded as
before."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import urllib3
import yaml
from kubernetes import client

from slokeeper.kube.connection import RequestTimeouts, api_client, default_namespace
from slokeeper.transport.no_answer import no_answer_reason
from unit.slow_server import SlowServer, http_answer


def _kubeconfig(tmp_path: Path, url: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "slow", "cluster": {"server": url}}],
                "users": [{"name": "me", "user": {"token": "t"}}],
                "contexts": [{"name": "slow", "context": {"cluster": "slow", "user": "me"}}],
                "current-context": "slow",
            }
        )
    )
    return str(path)


def _namespaces(tmp_path: Path, url: str, timeouts: RequestTimeouts) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(_kubeconfig(tmp_path, url), timeouts=timeouts))


def test_an_api_server_that_never_answers_fails_the_call_after_the_read_timeout(
    tmp_path: Path,
) -> None:
    with SlowServer() as server:
        api = _namespaces(tmp_path, server.url, RequestTimeouts(connect=1, read=0.3, total=10))
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError) as raised:
            api.read_namespace("shop")  # names no timeout
        took = time.monotonic() - started
    # urllib3 tries a GET four times: 4 x 0.3 s.
    assert took < 2.5, took
    assert no_answer_reason(raised.value) == "timed out"


@pytest.mark.parametrize(
    "at_once",
    [pytest.param(0, id="trickled from the status line"), pytest.param(40, id="body trickled")],
)
def test_an_api_server_that_trickles_fails_the_call_at_the_total_deadline(
    tmp_path: Path, at_once: int
) -> None:
    answer = http_answer(json.dumps({"kind": "Namespace", "metadata": {"name": "shop"}}).encode())
    with SlowServer(answer, at_once=at_once, byte_every=0.1) as server:
        api = _namespaces(tmp_path, server.url, RequestTimeouts(connect=1, read=2, total=1))
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError) as raised:
            api.read_namespace("shop")
        took = time.monotonic() - started
    assert 1.0 <= took < 1.5, took
    assert no_answer_reason(raised.value) == "no complete answer within 1s"


def test_a_call_that_names_a_shorter_timeout_keeps_it(tmp_path: Path) -> None:
    with SlowServer(http_answer(), byte_every=0.1) as server:
        api = _namespaces(tmp_path, server.url, RequestTimeouts(connect=1, read=2, total=10))
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError):
            api.read_namespace("shop", _request_timeout=0.5)
    assert time.monotonic() - started < 1.0


def test_a_prompt_answer_is_decoded_as_before(tmp_path: Path) -> None:
    answer = http_answer(json.dumps({"kind": "Namespace", "metadata": {"name": "shop"}}).encode())
    with SlowServer(answer, at_once=len(answer)) as server:
        api = _namespaces(tmp_path, server.url, RequestTimeouts(connect=1, read=1, total=1))
        namespace = api.read_namespace("shop")
    assert namespace.metadata.name == "shop"


def test_a_kubeconfig_whose_path_holds_a_colon_is_read_as_one_file(tmp_path: Path) -> None:
    """kubectl's --kubeconfig is one file; the client library would split this path on ':'."""
    path = tmp_path / "oidc:grace.kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "not-used"}}],
                "contexts": [
                    {"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}
                ],
                "current-context": "x",
            }
        )
    )
    assert api_client(str(path)).configuration.host == "https://127.0.0.1:6443"
    assert default_namespace(str(path)) == "shop"
