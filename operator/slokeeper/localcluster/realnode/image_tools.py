"""The tools that make the real-node images: debootstrap, Go (for the pause binary) and podman
with a storage of its own under the slokeeper cache. ``images.py`` drives them.

Facts behind the flags are in shared/REALNODE.md: runc, not crun ("cgroups in hybrid mode not
supported"); explicit rlimits, since the host's hard limits are below podman's defaults and
there is no CAP_SYS_RESOURCE ("error setting rlimit type 7/6: operation not permitted").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RUNC = "/usr/sbin/runc"
GO_CANDIDATES = ("/usr/local/go/bin/go",)
# --network none: nothing is fetched while building or running; everything comes from the
# build context. nofile's hard limit here is 20000; nproc above about 20000 is refused too.
CONTAINER_FLAGS = (
    "--network",
    "none",
    "--runtime",
    RUNC,
    "--ulimit",
    "nofile=20000:20000",
    "--ulimit",
    "nproc=20000:20000",
)

# What an image need not carry: apt's package lists and downloaded .debs, manuals, docs (the
# copyright files stay), translations and logs.
STRIPPED = (
    "var/lib/apt/lists",
    "var/cache/apt",
    "usr/share/man",
    "usr/share/info",
    "var/log",
    "dev",
)

PAUSE_MAIN_GO = """\
// pause: the process that holds a pod sandbox's namespaces. Sleeps until SIGTERM or SIGINT;
// as PID 1 of a pod sharing its PID namespace it also reaps orphaned children.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
"""


class MissingToolError(RuntimeError):
    """A program the images need is not installed; the message names it and how to get it."""


def find_go() -> Path:
    """The Go toolchain: ``go`` on PATH, else /usr/local/go/bin/go."""
    found = shutil.which("go")
    for candidate in (found, *GO_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise MissingToolError("the pause image needs Go: put `go` on PATH or in /usr/local/go/bin")


def require_programs(*programs: str) -> None:
    """Fail naming every program of ``programs`` that is not on PATH (or not at its path)."""
    missing = [name for name in programs if shutil.which(name) is None]
    if missing:
        raise MissingToolError(
            f"the real-node images need {', '.join(missing)}; install them with "
            "operator/slokeeper/localcluster/toolchain/host_packages.sh (as root)"
        )


def debootstrap(suite: str, packages: Sequence[str], mirror: str, target: Path) -> None:
    """A minimal Debian root filesystem with ``packages`` in ``target`` (made afresh)."""
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(packages)}",
            suite,
            str(target),
            mirror,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def strip_rootfs(rootfs: Path) -> None:
    """Remove what an image need not carry (STRIPPED, docs but copyrights, translations)."""
    for relative in STRIPPED:
        directory = rootfs / relative
        if directory.is_dir():
            for child in directory.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif child.name != "lock":
                    child.unlink()
    for doc in (rootfs / "usr/share/doc").rglob("*"):
        if (doc.is_file() or doc.is_symlink()) and doc.name != "copyright":
            doc.unlink()
    locales = rootfs / "usr/share/locale"
    if locales.is_dir():
        for child in locales.iterdir():
            if child.is_dir():
                shutil.rmtree(child)


def build_pause(go: Path, output: Path) -> None:
    """Build the static pause binary (CGO off, stripped) from PAUSE_MAIN_GO into ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slokeeper-pause-") as work:
        module = Path(work)
        (module / "go.mod").write_text("module slokeeper.local/pause\n\ngo 1.22\n")
        (module / "main.go").write_text(PAUSE_MAIN_GO)
        environment = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": ""}
        subprocess.run(
            [str(go), "build", "-trimpath", "-ldflags=-s -w", "-o", str(output), "."],
            check=True,
            cwd=module,
            env=environment,
        )


def go_version(go: Path) -> str:
    """``go version`` output (part of the pause image's cache key)."""
    return subprocess.run(
        [str(go), "version"], check=True, capture_output=True, text=True
    ).stdout.strip()


# What podman creates outside its own directory whatever it is told: containers/image's blob
# cache and runc's default state directory (left empty: our runc state is under the runroot).
PODMAN_HOST_TRACES = (Path("/var/lib/containers"), Path("/run/runc"))


@contextlib.contextmanager
def podman_host_traces_removed() -> Iterator[None]:
    """Remove, afterwards, the ``PODMAN_HOST_TRACES`` that did not exist before."""
    absent = [path for path in PODMAN_HOST_TRACES if not path.exists()]
    try:
        yield
    finally:
        for path in absent:
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Podman:
    """podman with a storage, a run-time directory and a containers.conf of its own, all in
    ``directory``; it touches nothing else but ``PODMAN_HOST_TRACES``."""

    directory: Path

    @property
    def root(self) -> Path:
        return self.directory / "root"

    @property
    def runroot(self) -> Path:
        return self.directory / "run"

    @property
    def config(self) -> Path:
        return self.directory / "containers.conf"

    def prepare(self) -> Podman:
        """Write the containers.conf that keeps podman's run-time files (``tmp_dir``, else
        /run/libpod) here and its events off."""
        self.directory.mkdir(parents=True, exist_ok=True)
        text = f'[engine]\ntmp_dir = "{self.runroot / "libpod"}"\nevents_logger = "none"\n'
        if not self.config.is_file() or self.config.read_text() != text:
            self.config.write_text(text)
        return self

    def command(self, *arguments: str) -> list[str]:
        """The podman command line (through ``env``, so it can be run as it is)."""
        return [
            "env",
            f"CONTAINERS_CONF={self.config}",
            "podman",
            "--root",
            str(self.root),
            "--runroot",
            str(self.runroot),
            "--runtime-flag",  # runc's state under runroot, not in /run/runc
            f"root={self.runroot / 'runc'}",
            *arguments,
        ]

    def _run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*arguments), check=True, capture_output=True, text=True)

    def exists(self, image: str) -> bool:
        result = subprocess.run(self.command("image", "exists", image), check=False)
        return result.returncode == 0

    def load(self, archive: Path) -> None:
        self._run("load", "--quiet", "--input", str(archive))

    def build(self, context: Path, tag: str, build_args: Mapping[str, str]) -> None:
        """``podman build`` of ``context``'s Dockerfile, offline; its output (steps and errors
        together) is kept for the error a failed build raises."""
        arguments = [f"--build-arg={name}={value}" for name, value in build_args.items()]
        subprocess.run(
            self.command(
                "build",
                *CONTAINER_FLAGS,
                "--pull=never",
                "--layers=false",
                "--tag",
                tag,
                *arguments,
                str(context),
            ),
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def save(self, image: str, archive: Path) -> None:
        """``podman save --format docker-archive`` into ``archive``, renamed into place whole."""
        partial = archive.with_name(archive.name + ".part")
        partial.unlink(missing_ok=True)
        self._run("save", "--quiet", "--format", "docker-archive", "--output", str(partial), image)
        os.replace(partial, archive)

    def run(
        self, image: str, *arguments: str, entrypoint: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``image`` once, offline, and return what it printed (not checked)."""
        options = ["--rm", *CONTAINER_FLAGS]
        if entrypoint is not None:
            options.append(f"--entrypoint={entrypoint}")
        return subprocess.run(
            self.command("run", *options, image, *arguments),
            check=False,
            capture_output=True,
            text=True,
        )

    def forget_other_tags(self, repository: str, *keep: str) -> None:
        """Untag every ``repository:*`` image but those in ``keep`` (older builds)."""
        listed = self._run("images", "--format", "{{.Repository}}:{{.Tag}}", repository)
        for name in listed.stdout.split():
            if name not in keep and name.startswith(f"{repository}:"):
                subprocess.run(
                    self.command("rmi", "--force", name), check=False, capture_output=True
                )
