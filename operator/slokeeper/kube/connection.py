"""The Kubernetes API client: in-cluster credentials, else the given or default kubeconfig."""

from __future__ import annotations

from kubernetes import client, config


def api_client(kubeconfig: str | None = None, context: str | None = None) -> client.ApiClient:
    if kubeconfig or context:
        loaded: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context
        )
        return loaded
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace kubectl would use: the context's, else ``default``."""
    try:
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (config.ConfigException, FileNotFoundError, TypeError):
        return "default"
    chosen = next((c for c in contexts if c["name"] == context), active) if context else active
    namespace: str = (chosen or {}).get("context", {}).get("namespace") or "default"
    return namespace
