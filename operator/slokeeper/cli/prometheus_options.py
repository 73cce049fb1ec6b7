"""The flags (and environment variables, as the Helm chart sets them) saying how to reach
Prometheus, built from the Prometheus rows of ``settings_table``; shared by every command that
queries it."""

from __future__ import annotations

import argparse
from typing import TypeVar

from slokeeper.cli.setting import add_settings
from slokeeper.cli.settings_table import choices, prometheus_settings, setting
from slokeeper.prometheus.access import PrometheusAccess
from slokeeper.prometheus.query_params import Dedup, PartialResponse, QueryParam, parse_query_params
from slokeeper.slo.durations import duration_seconds

QUERY_PARAMS = setting("--prometheus-query-param")
Named = TypeVar("Named", PartialResponse, Dedup)


def add_prometheus_arguments(parser: argparse.ArgumentParser, default_url: str) -> None:
    add_settings(parser.add_argument_group("Prometheus"), prometheus_settings(default_url))


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
            max_response_bytes=args.prometheus_max_response_size,
        )
    except ValueError as error:
        raise SystemExit(f"slokeeper: {error}") from error


def _env_query_params() -> tuple[QueryParam, ...]:
    """The variable's items, when no flag gave any (the flag replaces them)."""
    try:
        return parse_query_params(QUERY_PARAMS.env_text() or "")
    except ValueError as error:
        raise ValueError(f"{QUERY_PARAMS.env}: {error}") from error


def _named(enum: type[Named], value: str, flag: str) -> Named:
    try:
        return enum(value)
    except ValueError:
        variable = setting(flag).env
        raise ValueError(f"{flag} (env {variable}) takes {choices(enum)}, not {value!r}") from None
