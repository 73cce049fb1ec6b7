"""The images the real-node cluster runs, built from the project's own files and cached.

``ensure_images(cache)`` makes, or finds in ``<cache>/realnode-images``, docker-archive tars of
- the Debian base ``localhost/slokeeper-base:bookworm`` (debootstrap minbase + python3),
- the sandbox's ``registry.k8s.io/pause:3.10`` (a static Go binary that sleeps),
- the operator, ``localhost/slokeeper:<key>``, from the repository's ``Dockerfile``,
- the demo application, ``localhost/slokeeper-demoapp:<key>`` (``slokeeper.demoapp``),
and ``import_images`` loads them into containerd. The tags carry a key of the sources, so a
changed operator is a new tag and a containerd kept between runs never serves a stale one.
Builds run offline (``podman build --network none``) in a podman storage of their own under the
cache; Python packages come from a wheelhouse made on the host. Needs root, debootstrap,
podman, runc and Go (shared/REALNODE.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from slokeeper.localcluster.file_lock import held_exclusively
from slokeeper.localcluster.realnode.image_archive import (
    ImageConfig,
    tar_directory,
    write_docker_archive,
)
from slokeeper.localcluster.realnode.image_sources import (
    base_key,
    build_wheelhouse,
    debian_mirror,
    key_of,
    tree_key,
    wheelhouse_requirements,
)
from slokeeper.localcluster.realnode.image_tools import (
    PAUSE_MAIN_GO,
    MissingToolError,
    Podman,
    build_pause,
    debootstrap,
    find_go,
    go_version,
    podman_host_traces_removed,
    require_programs,
    strip_rootfs,
)
from slokeeper.localcluster.toolchain import cache_root

REPOSITORY = Path(__file__).resolve().parents[4]
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_REPOSITORY = "localhost/slokeeper-base"
PAUSE_NAME = "registry.k8s.io/pause:3.10"
OPERATOR_REPOSITORY = "localhost/slokeeper"
DEMOAPP_REPOSITORY = "localhost/slokeeper-demoapp"
# What the operator image is built from (README.md is copied too, but only feeds the package's
# long description: an edit of the README does not rebuild the image).
OPERATOR_SOURCES = ("Dockerfile", ".dockerignore", "pyproject.toml", "operator")
DEMOAPP_SOURCES = ("operator/slokeeper/__init__.py", "operator/slokeeper/demoapp")
PIP_OFFLINE = "--no-index --find-links=/src/wheels"
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))

DEMOAPP_DOCKERFILE = """\
# The demo application (slokeeper.demoapp): the local Debian base, prometheus_client from the
# wheelhouse, and the two modules; behaviour per version from the pod's environment.
ARG BASE
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY wheels /wheels
RUN python3 -m venv /opt/demoapp \\
 && /opt/demoapp/bin/pip install --no-compile --no-index --find-links=/wheels prometheus_client

FROM ${BASE}
COPY --from=build /opt/demoapp /opt/demoapp
COPY app /opt/demoapp/app
ENV PATH=/opt/demoapp/bin:$PATH PYTHONPATH=/opt/demoapp/app \\
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PROMETHEUS_DISABLE_CREATED_SERIES=True
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["python3", "-m", "slokeeper.demoapp.server"]
"""


class ImageError(RuntimeError):
    """An image could not be built or imported; the message says which step and why."""


@dataclass(frozen=True)
class BuiltImage:
    """One image: the name pods use and the docker-archive tar that holds it."""

    name: str
    archive: Path


@dataclass(frozen=True)
class RealNodeImages:
    """Every image of the real node, and how long each step of this run took (seconds)."""

    base: BuiltImage
    pause: BuiltImage
    operator: BuiltImage
    demoapp: BuiltImage
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def node_images(self) -> tuple[BuiltImage, ...]:
        """What containerd needs: the pause image and the two the pods run (the base is in
        both of theirs)."""
        return (self.pause, self.operator, self.demoapp)


@dataclass
class _Run:
    """One ensure_images call: where things go, the podman storage, progress lines."""

    images: Path
    project: Path
    podman: Podman
    started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=dict)

    def say(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[slokeeper images {elapsed:4.0f}s] {message}", file=sys.stderr, flush=True)

    @contextmanager
    def step(self, name: str, message: str) -> Iterator[None]:
        self.say(message)
        began = time.monotonic()
        yield
        self.seconds[name] = round(time.monotonic() - began, 1)
        self.say(f"{name}: done in {self.seconds[name]:.1f}s")

    def cached(self, kind: str, key: str) -> Path:
        """The archive path of ``kind`` at ``key``; older archives of the kind are removed
        once this one exists."""
        return self.images / f"{kind}-{key}.tar"

    def forget_older(self, kind: str, keep: Path) -> None:
        for old in self.images.glob(f"{kind}-*.tar"):
            if old != keep:
                old.unlink()


def ensure_images(cache: Path | None = None, project: Path | None = None) -> RealNodeImages:
    """Every real-node image, built first where the cache lacks it (progress on stderr).

    Idempotent; with everything cached it only checks the files (under a second, plus a
    second for podman when the base must be reloaded into its storage).
    """
    cache = cache or cache_root()
    project = project or REPOSITORY
    if not (project / "Dockerfile").is_file():
        raise ImageError(f"no Dockerfile in {project}: the images build from a source checkout")
    if os.geteuid() != 0:
        raise ImageError("the real-node images need root (debootstrap, podman's own storage)")
    try:
        require_programs("podman", "debootstrap", "tar", "runc")
        go = find_go()
    except MissingToolError as error:
        raise ImageError(str(error)) from error
    run = _Run(
        images=cache / "realnode-images",
        project=project,
        podman=Podman(cache / "podman").prepare(),
    )
    run.images.mkdir(parents=True, exist_ok=True)
    with podman_in_use(cache):
        try:
            base, key = _ensure_base(run)
            pause = _ensure_pause(run, go)
            wheels = _ensure_wheelhouse(run)
            operator = _ensure_operator(run, key, wheels)
            demoapp = _ensure_demoapp(run, key, wheels)
        except subprocess.CalledProcessError as error:
            raise ImageError(_failure(error)) from error
    run.say("images ready: " + ", ".join(i.name for i in (base, pause, operator, demoapp)))
    return RealNodeImages(base, pause, operator, demoapp, seconds=run.seconds)


def import_images(ctr: Path, address: Path, archives: Sequence[Path]) -> dict[Path, float]:
    """``ctr --address ADDRESS -n k8s.io images import`` of each archive, the namespace the
    kubelet's CRI reads. Returns the seconds each import took."""
    seconds: dict[Path, float] = {}
    for archive in archives:
        began = time.monotonic()
        command = [str(ctr), "--address", str(address), "-n", "k8s.io", "images", "import"]
        result = subprocess.run(
            [*command, str(archive)], check=False, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise ImageError(
                f"ctr images import {archive} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        seconds[archive] = round(time.monotonic() - began, 1)
    return seconds


def _ensure_base(run: _Run) -> tuple[BuiltImage, str]:
    """The Debian base archive, made by debootstrap unless this month's is cached; loaded into
    the podman storage (the other images are built FROM it). Returns it and its key."""
    key = base_key(SUITE, BASE_PACKAGES, datetime.now(UTC).strftime("%Y-%m"))
    archive = run.cached(f"base-{SUITE}", key)
    keyed_name = f"{BASE_REPOSITORY}:{SUITE}-{key}"
    if archive.is_file():
        run.say(f"base {SUITE} cached ({archive.name})")
    else:
        mirror = debian_mirror(_apt_sources(), SUITE) or "http://deb.debian.org/debian"
        rootfs = run.images / "work" / "base-rootfs"
        with run.step("debootstrap", f"base {SUITE}: debootstrap from {mirror} (about a minute)"):
            debootstrap(SUITE, BASE_PACKAGES, mirror, rootfs)
        with run.step("base archive", f"base {SUITE}: stripping and writing {archive.name}"):
            strip_rootfs(rootfs)
            layer = rootfs.with_name("base-layer.tar")
            tar_directory(rootfs, layer)
            config = ImageConfig(cmd=("/bin/bash",), comment=f"debootstrap {SUITE} minbase")
            write_docker_archive(layer, config, [f"{BASE_REPOSITORY}:{SUITE}", keyed_name], archive)
            layer.unlink()
            shutil.rmtree(rootfs)
        run.forget_older(f"base-{SUITE}", archive)
    if not (run.podman.exists(keyed_name) and run.podman.exists(f"{BASE_REPOSITORY}:{SUITE}")):
        with run.step("base load", f"base {SUITE}: loading into the podman storage"):
            run.podman.load(archive)
            run.podman.forget_other_tags(BASE_REPOSITORY, f"{BASE_REPOSITORY}:{SUITE}", keyed_name)
    return BuiltImage(f"{BASE_REPOSITORY}:{SUITE}", archive), key


def _ensure_pause(run: _Run, go: Path) -> BuiltImage:
    """The pause image: the Go binary of image_tools.PAUSE_MAIN_GO alone in a layer."""
    archive = run.cached("pause", key_of(PAUSE_MAIN_GO, go_version(go), PAUSE_NAME))
    if archive.is_file():
        run.say(f"pause cached ({archive.name})")
        return BuiltImage(PAUSE_NAME, archive)
    work = run.images / "work" / "pause"
    shutil.rmtree(work, ignore_errors=True)
    with run.step("pause", f"pause: go build (CGO off) and {archive.name}"):
        build_pause(go, work / "root" / "pause")
        tar_directory(work / "root", work / "layer.tar")
        config = ImageConfig(entrypoint=("/pause",), user="65535:65535", comment="pause")
        write_docker_archive(work / "layer.tar", config, [PAUSE_NAME], archive)
    shutil.rmtree(work)
    run.forget_older("pause", archive)
    return BuiltImage(PAUSE_NAME, archive)


def _ensure_wheelhouse(run: _Run) -> Path:
    """Wheels of the operator's dependencies for the image's Python, made with pip on the host."""
    requirements = wheelhouse_requirements(run.project / "pyproject.toml")
    wheels = run.images / f"wheels-{key_of(*requirements, sys.version)}"
    if wheels.is_dir():
        run.say(f"wheelhouse cached ({wheels.name})")
        return wheels
    with run.step("wheelhouse", "wheelhouse: pip wheel of the runtime dependencies"):
        names = build_wheelhouse(Path(sys.executable), run.project, wheels)
    run.say(f"wheelhouse: {len(names)} wheels, all for Python 3.11 on bookworm")
    for old in run.images.glob("wheels-*"):
        if old != wheels and old.is_dir():
            shutil.rmtree(old)
    return wheels


def _ensure_operator(run: _Run, base: str, wheels: Path) -> BuiltImage:
    """The operator image from the repository's Dockerfile, offline, FROM the local base."""
    key = tree_key(run.project, OPERATOR_SOURCES, base, wheels.name)
    name = f"{OPERATOR_REPOSITORY}:{key}"

    def context(directory: Path) -> None:
        for file in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md"):
            shutil.copy2(run.project / file, directory / file)
        _copy_tree(run.project / "operator", directory / "operator")
        _copy_tree(wheels, directory / "wheels")

    build_args = {"PIP_INSTALL_OPTIONS": PIP_OFFLINE}
    return _podman_image(
        run, "operator", name=name, base=base, context=context, build_args=build_args
    )


def _ensure_demoapp(run: _Run, base: str, wheels: Path) -> BuiltImage:
    """The demo application's image: the base, prometheus_client and slokeeper.demoapp."""
    client_wheels = sorted(wheels.glob("prometheus_client-*.whl"))
    if not client_wheels:
        raise ImageError(f"the wheelhouse {wheels} has no prometheus_client wheel")
    key = tree_key(run.project, DEMOAPP_SOURCES, DEMOAPP_DOCKERFILE, base, client_wheels[-1].name)
    name = f"{DEMOAPP_REPOSITORY}:{key}"

    def context(directory: Path) -> None:
        (directory / "Dockerfile").write_text(DEMOAPP_DOCKERFILE)
        package = directory / "app" / "slokeeper"
        package.mkdir(parents=True)
        shutil.copy2(run.project / "operator/slokeeper/__init__.py", package / "__init__.py")
        _copy_tree(run.project / "operator/slokeeper/demoapp", package / "demoapp")
        (directory / "wheels").mkdir()
        shutil.copy2(client_wheels[-1], directory / "wheels" / client_wheels[-1].name)

    return _podman_image(run, "demoapp", name=name, base=base, context=context, build_args={})


def _podman_image(
    run: _Run,
    kind: str,
    *,
    name: str,
    base: str,
    context: Callable[[Path], None],
    build_args: dict[str, str],
) -> BuiltImage:
    """Build ``name`` with podman from the context ``context`` fills, and save its archive;
    nothing when the archive for this name is cached."""
    repository, _, key = name.rpartition(":")
    archive = run.cached(kind, key)
    if archive.is_file():
        run.say(f"{kind} cached ({name})")
        if not run.podman.exists(name):  # the storage was wiped: tests run the image by name
            run.podman.load(archive)
        return BuiltImage(name, archive)
    directory = run.images / "work" / f"{kind}-context"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    context(directory)
    arguments = {"BASE": f"{BASE_REPOSITORY}:{SUITE}-{base}", **build_args}
    with run.step(f"{kind} build", f"{kind}: podman build --network none of {name}"):
        run.podman.build(directory, name, arguments)
    with run.step(f"{kind} save", f"{kind}: podman save --format docker-archive"):
        run.podman.save(name, archive)
    shutil.rmtree(directory)
    run.forget_older(kind, archive)
    run.podman.forget_other_tags(repository, name)
    return BuiltImage(name, archive)


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    )


def _apt_sources() -> list[str]:
    """The text of the machine's apt sources (one-line and deb822 files)."""
    texts: list[str] = []
    for path in APT_SOURCES:
        files = sorted(path.glob("*")) if path.is_dir() else [path]
        texts += [file.read_text() for file in files if file.is_file()]
    return texts


@contextmanager
def podman_in_use(cache: Path | None = None) -> Iterator[None]:
    """Hold the image lock (two test sessions never build at once, nor remove podman's host
    traces under each other) and remove the host traces podman made meanwhile."""
    with (
        held_exclusively((cache or cache_root()) / "realnode-images" / ".lock"),
        podman_host_traces_removed(),
    ):
        yield


def _failure(error: subprocess.CalledProcessError) -> str:
    command = " ".join(str(part) for part in error.cmd)
    output = error.stderr or error.stdout or ""
    tail = "\n".join(str(output).strip().splitlines()[-15:])
    return f"`{command}` failed with exit code {error.returncode}" + (
        f":\n{tail}" if tail else " (its output is above)"
    )
