"""The Kubernetes API client: in-cluster credentials, else the given or default kubeconfig."""

from __future__ import annotations

from kubernetes import client, config


def api_client(kubeconfig: str | None = None) -> client.ApiClient:
    if kubeconfig:
        loaded: client.ApiClient = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        return loaded
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()
