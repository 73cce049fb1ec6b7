"""The flags (and environment variables, as the Helm chart sets them) saying how to reach
Prometheus; shared by every command that queries it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TypeVar

from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.query_params import (
    Dedup,
    PartialResponse,
    QueryParam,
    parse_query_param,
    parse_query_params,
)
from slokeeper.slo.durations import duration_seconds


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


QUERY_PARAMS_ENV = "SLOKEEPER_PROMETHEUS_QUERY_PARAMS"
Named = TypeVar("Named", PartialResponse, Dedup)


def _query_param(text: str) -> QueryParam:
    try:
        return parse_query_param(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _choices(enum: type[PartialResponse] | type[Dedup]) -> str:
    return "|".join(member.value for member in enum)


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
    group.add_argument(
        "--prometheus-partial-response",
        metavar=_choices(PartialResponse),
        default=os.environ.get("SLOKEEPER_PROMETHEUS_PARTIAL_RESPONSE", PartialResponse.DENY),
        help="whether Thanos Query or VictoriaMetrics cluster may answer from the stores that "
        "answered when some fail: deny sends partial_response=false and "
        "deny_partial_response=1, so no SLO is computed from part of its series; allow sends "
        "the opposite; backend-default sends neither "
        "(env SLOKEEPER_PROMETHEUS_PARTIAL_RESPONSE, default deny)",
    )
    group.add_argument(
        "--prometheus-dedup",
        metavar=_choices(Dedup),
        default=os.environ.get("SLOKEEPER_PROMETHEUS_DEDUP", Dedup.ON),
        help="Thanos Query's deduplication of HA replicas: on sends dedup=true, off "
        "dedup=false, backend-default neither (env SLOKEEPER_PROMETHEUS_DEDUP, default on)",
    )
    group.add_argument(
        "--prometheus-query-param",
        metavar="KEY=VALUE",
        action="append",
        type=_query_param,
        help="one more query parameter sent with every query, repeatable (e.g. "
        "max_source_resolution=0s); it replaces a parameter of the same name set by the two "
        f"flags above (env {QUERY_PARAMS_ENV}, comma-separated; the flag, when given, "
        "replaces it)",
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
        query_params = (
            tuple(args.prometheus_query_param)
            if args.prometheus_query_param is not None
            else _env_query_params()
        )
        return PrometheusAccess(
            url=args.prometheus_url,
            timeout_seconds=duration_seconds(args.prometheus_timeout),
            bearer_token_file=args.prometheus_bearer_token_file,
            basic_auth_username=args.prometheus_basic_auth_username,
            basic_auth_password_file=args.prometheus_basic_auth_password_file,
            ca_file=args.prometheus_ca_file,
            partial_response=_named(
                PartialResponse, args.prometheus_partial_response, "--prometheus-partial-response"
            ),
            dedup=_named(Dedup, args.prometheus_dedup, "--prometheus-dedup"),
            query_params=query_params,
        )
    except ValueError as error:
        raise SystemExit(f"slokeeper: {error}") from error


def _env_query_params() -> tuple[QueryParam, ...]:
    try:
        return parse_query_params(os.environ.get(QUERY_PARAMS_ENV, ""))
    except ValueError as error:
        raise ValueError(f"{QUERY_PARAMS_ENV}: {error}") from error


def _named(enum: type[Named], value: str, flag: str) -> Named:
    try:
        return enum(value)
    except ValueError:
        variable = "SLOKEEPER_" + flag.removeprefix("--").replace("-", "_").upper()
        raise ValueError(f"{flag} (env {variable}) takes {_choices(enum)}, not {value!r}") from None
