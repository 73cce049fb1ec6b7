"""User story: on a machine with no Docker and no registry, the real node's images build from the
project's own files — the operator from its Dockerfile, the demo application, the pause image —
run as a user would see them (uid 65532, the operator's help, the demo's metrics and error ratio),
load into containerd, and a second run finds them all cached.

Each image runs once with podman in the images' own storage, offline (--network none). Nothing
is skipped: a missing tool fails with its name.
"""

from __future__ import annotations

import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from polling import eventually
from slokeeper.localcluster.realnode.image_archive import read_archive_manifest
from slokeeper.localcluster.realnode.image_tools import CONTAINER_FLAGS, Podman
from slokeeper.localcluster.realnode.images import (
    RealNodeImages,
    ensure_images,
    import_images,
    podman_in_use,
)
from slokeeper.localcluster.toolchain import cache_root

COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "tcc", "ld", "as", "make")


@pytest.fixture(scope="module")
def images() -> RealNodeImages:
    return ensure_images()


@pytest.fixture
def podman() -> Iterator[Podman]:
    """Holds the image lock for one test (another test worker may be building images)."""
    with podman_in_use():
        yield Podman(cache_root() / "podman").prepare()


def test_the_operator_image_is_the_cli_and_runs_slokeeper_run_as_uid_65532(
    images: RealNodeImages, podman: Podman
) -> None:
    # The chart's Pod passes `run` as its argument, as `docker run IMAGE run --help` does here.
    result = podman.run(images.operator.name, "run", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: slokeeper run"), result.stdout
    assert "--prometheus-url" in result.stdout
    identity = podman.run(images.operator.name, "-c", "id -u; id -g", entrypoint="sh")
    assert identity.stdout.split() == ["65532", "65532"], identity.stderr


def test_the_operator_image_holds_no_compiler(images: RealNodeImages, podman: Podman) -> None:
    found = podman.run(
        images.operator.name,
        "-c",
        f"for tool in {' '.join(COMPILERS)}; do command -v $tool; done; true",
        entrypoint="sh",
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == [], f"compilers in the image: {found.stdout.split()}"


DEMO_SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys, time, urllib.request
    from slokeeper.demoapp.load import LoadGenerator
    server = subprocess.Popen([sys.executable, "-m", "slokeeper.demoapp.server"])
    for _ in range(50):
        try:
            urllib.request.urlopen("http://127.0.0.1:8080/readyz").read()
            break
        except OSError:
            time.sleep(0.1)
    counts = LoadGenerator("http://127.0.0.1:8080/", rate=100).run(seconds=2)
    print("uid", os.getuid())
    print("load", counts["200"], counts["500"])
    print(urllib.request.urlopen("http://127.0.0.1:8080/metrics").read().decode())
    server.terminate()
    print("exit", server.wait(5))
    """
)


def test_the_demo_app_serves_its_versions_error_ratio_and_metrics(
    images: RealNodeImages, podman: Podman
) -> None:
    result = subprocess.run(
        podman.command(
            "run", "--rm", "--network", "none", "--runtime", "/usr/sbin/runc",
            "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000",
            "--env", "ERROR_RATIO=0.25", "--env", "VERSION=1.4", "--entrypoint", "python3",
            images.demoapp.name, "-c", DEMO_SCRIPT,
        ),
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "uid 65532" in lines
    ok, failed = (int(n) for n in next(x for x in lines if x.startswith("load ")).split()[1:])
    assert ok + failed >= 150
    assert failed == (ok + failed) // 4, "a quarter of the requests fail, as ERROR_RATIO says"
    assert f'http_requests_total{{code="500"}} {float(failed)}' in lines
    assert f'http_requests_total{{code="200"}} {float(ok)}' in lines
    assert 'http_request_duration_seconds_bucket{le="0.25"}' in result.stdout
    assert f"http_request_duration_seconds_count {float(ok + failed)}" in lines
    assert 'demoapp_build_info{profile="healthy",version="1.4"} 1.0' in lines
    assert "_created" not in result.stdout
    assert "exit 0" in lines, "the server ends cleanly on SIGTERM"


def test_the_demo_app_image_holds_only_prometheus_client(
    images: RealNodeImages, podman: Podman
) -> None:
    listed = podman.run(images.demoapp.name, "-m", "pip", "list", "--format=freeze",
                        entrypoint="python3")  # fmt: skip
    packages = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.split()}
    assert packages - {"pip", "setuptools"} == {"prometheus-client"}, listed.stdout


@pytest.fixture
def pause_container(images: RealNodeImages, podman: Podman) -> Iterator[str]:
    podman.load(images.pause.archive)
    name = f"slokeeper-pause-test-{time.monotonic_ns()}"
    yield name
    subprocess.run(podman.command("rm", "--force", name), capture_output=True, check=False)
    subprocess.run(podman.command("rmi", images.pause.name), capture_output=True, check=False)


def test_the_pause_image_sleeps_until_sigterm(
    images: RealNodeImages, podman: Podman, pause_container: str
) -> None:
    subprocess.run(
        podman.command("run", "--detach", "--name", pause_container, *CONTAINER_FLAGS,
                       images.pause.name),
        check=True, capture_output=True,
    )  # fmt: skip
    time.sleep(1)
    state = podman.command("inspect", "--format", "{{.State.Status}}", pause_container)
    assert (
        subprocess.run(state, capture_output=True, text=True, check=False).stdout.strip()
        == "running"
    )
    began = time.monotonic()
    subprocess.run(podman.command("stop", "--time", "10", pause_container), check=True,
                   capture_output=True)  # fmt: skip
    assert time.monotonic() - began < 5, "SIGTERM ends it; it does not wait to be killed"
    code = podman.command("inspect", "--format", "{{.State.ExitCode}}", pause_container)
    assert subprocess.run(code, capture_output=True, text=True, check=False).stdout.strip() == "0"


def test_the_archives_are_named_as_the_pods_ask_for_them(images: RealNodeImages) -> None:
    for image in (images.base, *images.node_images):
        (entry,) = read_archive_manifest(image.archive)
        assert image.name in entry["RepoTags"], entry  # type: ignore[operator]
    assert images.pause.name == "registry.k8s.io/pause:3.10"
    assert images.base.name == "localhost/slokeeper-base:bookworm"
    assert images.pause.archive.stat().st_size < 3_000_000


def test_containerd_imports_every_node_image(images: RealNodeImages, tmp_path: Path) -> None:
    """A containerd of the test's own (no CRI plugin, no network) takes the archives as the
    real node's will."""
    socket = tmp_path / "containerd.sock"
    config = tmp_path / "config.toml"
    config.write_text(
        f'version = 2\nroot = "{tmp_path}/root"\nstate = "{tmp_path}/state"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{socket}"\n[ttrpc]\n  address = "{socket}.ttrpc"\n'
    )
    with (tmp_path / "containerd.log").open("w") as log:
        daemon = subprocess.Popen(["containerd", "--config", str(config)], stdout=log, stderr=log)
    try:
        eventually(socket.exists, bool, "containerd's socket", timeout=10)
        import_images(Path("/usr/bin/ctr"), socket, [i.archive for i in images.node_images])
        listed = subprocess.run(
            ["ctr", "--address", str(socket), "-n", "k8s.io", "images", "ls", "-q"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        daemon.terminate()
        daemon.wait(10)
    assert set(listed.stdout.split()) >= {i.name for i in images.node_images}


def test_a_second_run_finds_everything_cached(images: RealNodeImages) -> None:
    again = ensure_images()
    assert again == images
    assert again.seconds == {}, "nothing was built"
