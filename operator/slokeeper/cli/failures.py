"""What every ``slokeeper`` command exits with, and how a failure it did not expect is said: one
line on stderr naming the server and why, never a traceback (a pipeline's log shows the line).

Exit codes, for every command:
    0   done (for ``rollout status``: promoted, or at rest)
    1   failed: refused or not found (with the API server's words), invalid input, or the API
        server or Prometheus could not be reached
    2   the command line is wrong (argparse's usage message)
    3   ``rollout status``: the target's template was rolled back or refused
    4   ``rollout status --watch``: gave up (``--timeout``) before the change ended
    130 interrupted (Ctrl-C), as a shell reports it
``slokeeper run`` is the operator: it waits for an API server that is not there yet, as a Pod must.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException
from urllib3.exceptions import HTTPError, MaxRetryError

from slokeeper.localcluster.cluster import KubectlError
from slokeeper.prometheus.client import PrometheusUnreachableError
from slokeeper.transport.no_answer import no_answer_reason

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace], int]


def _server(error: BaseException) -> str:
    """The server a request went to, as ``https://host:port``, when urllib3 says."""
    pool = getattr(error, "pool", None)
    if isinstance(error, MaxRetryError) and pool is not None:
        return f" at {pool.scheme}://{pool.host}:{pool.port}"
    return ""


def _said(error: ApiException) -> str:
    body = str(error.body or "")
    reason = f"{error.status} {error.reason}"
    return f"{reason}: {body[:200]}" if body and not body.startswith("{") else reason


def one_line(error: BaseException) -> str:
    """The line a person reads for a failure no command caught itself."""
    if isinstance(error, PrometheusUnreachableError):
        return f"slokeeper: {error}"
    if isinstance(error, KubectlError):
        # The demo drives the cluster with kubectl: its own words, first line (they name the
        # server: "The connection to the server 127.0.0.1:1 was refused").
        return f"slokeeper: {str(error).splitlines()[0]}"
    if isinstance(error, ConfigException):
        return f"slokeeper: no usable kubeconfig: {error}"
    if isinstance(error, ApiException):
        return f"slokeeper: the Kubernetes API server answered {_said(error)}"
    return (
        f"slokeeper: cannot reach the Kubernetes API server{_server(error)}: "
        f"{no_answer_reason(error)}"
    )


def run_command(command: Command, args: argparse.Namespace) -> int:
    """``command``'s exit code; an unreachable server, a missing kubeconfig or an API error the
    command did not handle becomes one line on stderr and exit 1."""
    try:
        return command(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # the shell's ^C ends the line the terminal was on
        return EXIT_INTERRUPTED
    except (
        HTTPError,
        ConnectionError,
        TimeoutError,
        PrometheusUnreachableError,
        ConfigException,
        ApiException,
        KubectlError,
    ) as error:
        print(one_line(error), file=sys.stderr)
        return EXIT_FAILED
