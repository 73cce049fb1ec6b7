"""The Kubernetes API client: in-cluster credentials, else the given or default kubeconfig.

Every request it sends is bounded: a connect and a read timeout where the call names none, and a
total deadline (``transport.deadline``) on all, so an API server that stops answering, or answers
a byte at a time, cannot hold the rollout or SLO loop for longer than one request's deadline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client import rest
from kubernetes.config import kube_config

from slokeeper.transport.deadline import keep_deadlines, total_deadline


@dataclass(frozen=True)
class RequestTimeouts:
    """Seconds. The total matches the API server's own limit for a request (its
    ``--request-timeout``, one minute), beyond which it gives up on the request anyway."""

    connect: float = 10.0
    read: float = 30.0
    total: float = 60.0


class _TimedRESTClient(rest.RESTClientObject):
    """The ApiClient's REST layer, sending every request with timeouts."""

    def __init__(self, configuration: client.Configuration, timeouts: RequestTimeouts) -> None:
        super().__init__(configuration)
        self.timeouts = timeouts
        keep_deadlines(self.pool_manager)

    def request(
        self,
        method: str,
        url: str,
        headers: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> rest.RESTResponse:
        """As the client's own; a call's ``_request_timeout`` (a total, or a (connect, read)
        pair) wins over the defaults, within the total deadline."""
        timeouts = self.timeouts
        total = timeouts.total
        if isinstance(_request_timeout, int | float) and _request_timeout:
            total = min(total, float(_request_timeout))
        with total_deadline(total):
            response: rest.RESTResponse = super().request(  # type: ignore[no-untyped-call]
                method,
                url,
                headers=headers,
                body=body,
                post_params=post_params,
                _request_timeout=_request_timeout or (timeouts.connect, timeouts.read),
            )
        return response


def with_timeouts(api: client.ApiClient, timeouts: RequestTimeouts) -> client.ApiClient:
    """``api``, its every request sent with ``timeouts``."""
    api.rest_client.close()  # unused yet: no connection to lose
    api.rest_client = _TimedRESTClient(api.configuration, timeouts)
    return api


def _one_file(kubeconfig: str, context: str | None) -> Any:
    """The kubeconfig at this path alone, as kubectl's --kubeconfig reads it. The client library
    splits a path on ':' as it does $KUBECONFIG, so a file whose path holds one (a user named
    ``oidc:grace``) would not be found."""
    with open(kubeconfig, encoding="utf-8") as file:
        loaded = yaml.safe_load(file)
    return kube_config.KubeConfigLoader(  # type: ignore[no-untyped-call]
        config_dict=loaded,
        active_context=context,
        config_base_path=os.path.dirname(os.path.abspath(kubeconfig)),
    )


def api_client(
    kubeconfig: str | None = None,
    context: str | None = None,
    timeouts: RequestTimeouts = RequestTimeouts(),
) -> client.ApiClient:
    if kubeconfig and os.pathsep in kubeconfig:
        configuration = client.Configuration()
        _one_file(kubeconfig, context).load_and_set(configuration)
        return with_timeouts(client.ApiClient(configuration), timeouts)
    if kubeconfig or context:
        loaded: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context
        )
        return with_timeouts(loaded, timeouts)
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return with_timeouts(client.ApiClient(), timeouts)


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace kubectl would use: the context's, else ``default``."""
    try:
        if kubeconfig and os.pathsep in kubeconfig:
            loader = _one_file(kubeconfig, None)
            contexts, active = loader.list_contexts(), loader.current_context
        else:
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (config.ConfigException, FileNotFoundError, TypeError):
        return "default"
    chosen = next((c for c in contexts if c["name"] == context), active) if context else active
    namespace: str = (chosen or {}).get("context", {}).get("namespace") or "default"
    return namespace
