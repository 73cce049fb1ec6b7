"""kubectl's habits: global flags before or after the command, durations written 60s or 5m, and
a server that cannot be reached said in one line with exit 1 (no traceback)."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from slokeeper.cli.failures import run_command
from slokeeper.cli.global_flags import hoist_global_flags
from slokeeper.cli.main import build_parser, main
from slokeeper.prometheus.client import PrometheusUnreachableError

CLOSED_URL = "http://127.0.0.1:1"
CLOSED_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: closed
  cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}
users:
- name: someone
  user: {token: not-used}
contexts:
- name: closed
  context: {cluster: closed, user: someone, namespace: shop}
current-context: closed
"""


def _closed_port() -> int:
    """A loopback port nobody listens on: bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def closed_kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(CLOSED_KUBECONFIG % _closed_port())
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["-n", "shop", "rollout", "status", "checkout"],
        ["rollout", "-n", "shop", "status", "checkout"],
        ["rollout", "status", "checkout", "-n", "shop"],
        ["--namespace=shop", "rollout", "status", "checkout"],
    ],
)
def test_the_namespace_is_read_wherever_it_is_written(argv: list[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(hoist_global_flags(parser, argv))
    assert (args.namespace, args.name, args.action) == ("shop", "checkout", "status")


def test_a_flag_after_the_command_wins_over_one_before_it() -> None:
    parser = build_parser()
    argv = ["-n", "shop", "--context", "prod", "status", "-n", "payments"]
    args = parser.parse_args(hoist_global_flags(parser, argv))
    assert (args.namespace, args.context) == ("payments", "prod")


def test_prometheus_flags_may_come_first_too() -> None:
    parser = build_parser()
    argv = ["--prometheus-url", "http://thanos:9090", "-n", "shop", "report", "checkout"]
    args = parser.parse_args(hoist_global_flags(parser, argv))
    assert (args.prometheus_url, args.namespace, args.name) == (
        "http://thanos:9090",
        "shop",
        "checkout",
    )


def test_a_command_without_the_flag_refuses_it_rather_than_dropping_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["-A", "rollout", "history", "checkout"])
    assert exited.value.code == 2
    assert "unrecognized arguments: -A" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("written", "kept"), [("90s", "90s"), ("5m", "5m"), ("1h", "1h"), ("1800", "1800s")]
)
def test_durations_are_written_like_kubectl_ones(written: str, kept: str) -> None:
    parser = build_parser()
    args = parser.parse_args(["rollout", "status", "checkout", "--timeout", written])
    assert args.timeout == kept


def test_a_malformed_duration_is_a_usage_error_naming_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rollout", "status", "checkout", "--watch", "--timeout", "5 minutes"])
    assert exited.value.code == 2
    assert "argument --timeout: '5 minutes' is not a Prometheus duration" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "-A"],
        ["rollout", "list"],
        ["rollout", "get", "checkout"],
        ["rollout", "status", "checkout", "--watch", "--timeout", "10s"],
        ["rollout", "history", "checkout"],
        ["rollout", "promote", "checkout", "--full"],
        ["rollout", "pause", "checkout"],
        ["rollout", "undo", "checkout"],
        ["report", "checkout", "--prometheus-url", "http://127.0.0.1:1"],
    ],
    ids=" ".join,
)
def test_an_unreachable_api_server_is_one_line_and_exit_1(
    command: list[str], closed_kubeconfig: Path
) -> None:
    # A subprocess, as a user runs it: what reaches the terminal, and the exit status.
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "slokeeper.cli.main",
            "--kubeconfig",
            str(closed_kubeconfig),
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr
    (line,) = ran.stderr.splitlines()
    assert line.startswith(
        "slokeeper: cannot reach the Kubernetes API server at https://127.0.0.1:"
    )
    assert line.endswith(": Connection refused")


def test_no_kubeconfig_at_all_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["rollout", "list"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("slokeeper: no usable kubeconfig:")


def _raising(error: BaseException) -> Callable[[argparse.Namespace], int]:
    def command(_args: argparse.Namespace) -> int:
        raise error

    return command


@pytest.mark.parametrize(
    ("error", "code", "said"),
    [
        (
            ApiException(status=403, reason="Forbidden"),
            1,
            "slokeeper: the Kubernetes API server answered 403 Forbidden",
        ),
        (
            PrometheusUnreachableError(
                "Prometheus at http://127.0.0.1:1 did not answer: timed out"
            ),
            1,
            f"slokeeper: Prometheus at {CLOSED_URL} did not answer: timed out",
        ),
        (KeyboardInterrupt(), 130, ""),
    ],
)
def test_what_no_command_caught_is_one_line_and_an_exit_code(
    error: BaseException, code: int, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(_raising(error), argparse.Namespace()) == code
    assert capsys.readouterr().err.strip() == said
