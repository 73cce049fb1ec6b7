"""The flags (and environment variables, as the Helm chart sets them) saying how to reach
Prometheus; shared by every command that queries it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.slo.durations import duration_seconds


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def add_prometheus_arguments(parser: argparse.ArgumentParser, default_url: str) -> None:
    group = parser.add_argument_group("Prometheus")
    group.add_argument(
        "--prometheus-url",
        default=os.environ.get("SLOKEEPER_PROMETHEUS_URL", default_url),
        help="Prometheus-compatible query API "
        f"(env SLOKEEPER_PROMETHEUS_URL; default {default_url})",
    )
    group.add_argument(
        "--prometheus-timeout",
        default=os.environ.get("SLOKEEPER_PROMETHEUS_TIMEOUT", "10s"),
        help="per-query timeout (env SLOKEEPER_PROMETHEUS_TIMEOUT, default 10s)",
    )
    group.add_argument(
        "--prometheus-bearer-token-file",
        type=Path,
        default=_env_path("SLOKEEPER_PROMETHEUS_BEARER_TOKEN_FILE"),
        help="file holding a bearer token, re-read when it changes "
        "(env SLOKEEPER_PROMETHEUS_BEARER_TOKEN_FILE)",
    )
    group.add_argument(
        "--prometheus-basic-auth-username",
        default=os.environ.get("SLOKEEPER_PROMETHEUS_BASIC_AUTH_USERNAME"),
        help="basic auth user (env SLOKEEPER_PROMETHEUS_BASIC_AUTH_USERNAME)",
    )
    group.add_argument(
        "--prometheus-basic-auth-password-file",
        type=Path,
        default=_env_path("SLOKEEPER_PROMETHEUS_BASIC_AUTH_PASSWORD_FILE"),
        help="file holding the basic auth password "
        "(env SLOKEEPER_PROMETHEUS_BASIC_AUTH_PASSWORD_FILE)",
    )
    group.add_argument(
        "--prometheus-ca-file",
        type=Path,
        default=_env_path("SLOKEEPER_PROMETHEUS_CA_FILE"),
        help="CA bundle for a Prometheus served over TLS (env SLOKEEPER_PROMETHEUS_CA_FILE)",
    )


def prometheus_access(args: argparse.Namespace) -> PrometheusAccess:
    """The access the flags describe; a contradiction (token and basic auth) is an error."""
    for path in (
        args.prometheus_bearer_token_file,
        args.prometheus_basic_auth_password_file,
        args.prometheus_ca_file,
    ):
        if path is not None and not path.is_file():
            raise SystemExit(f"slokeeper: {path}: no such file")
    try:
        return PrometheusAccess(
            url=args.prometheus_url,
            timeout_seconds=duration_seconds(args.prometheus_timeout),
            bearer_token_file=args.prometheus_bearer_token_file,
            basic_auth_username=args.prometheus_basic_auth_username,
            basic_auth_password_file=args.prometheus_basic_auth_password_file,
            ca_file=args.prometheus_ca_file,
        )
    except ValueError as error:
        raise SystemExit(f"slokeeper: {error}") from error
