"""What the real-node images are made from: cache keys, the Debian mirror, the wheelhouse.

Pure helpers (keys, the mirror in apt's sources, whether a wheel fits the image's Python) and the
wheelhouse that ``images.py`` builds on the host, since image builds run without a network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

# What bookworm's python3 is, so wheels made on the host are checked against it.
TARGET_PYTHON = (3, 11)
TARGET_GLIBC = (2, 36)
TARGET_MACHINE = "x86_64"

_SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def key_of(*parts: str | bytes) -> str:
    """A short stable key (16 hex digits) of the parts, in order."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:16]


def source_files(root: Path, paths: Sequence[str]) -> Iterator[Path]:
    """Every file under ``paths`` (files or directories relative to ``root``), sorted, without
    caches or compiled bytecode."""
    for relative in paths:
        path = root / relative
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for candidate in candidates:
            parts = set(candidate.relative_to(root).parts)
            if candidate.is_file() and not parts & _SKIPPED_PARTS and candidate.suffix != ".pyc":
                yield candidate


def tree_key(root: Path, paths: Sequence[str], *extra: str) -> str:
    """Key of the names and contents of the files under ``paths``, and of ``extra``."""
    parts: list[str | bytes] = list(extra)
    for file in source_files(root, paths):
        parts += [file.relative_to(root).as_posix(), file.read_bytes()]
    return key_of(*parts)


def base_key(suite: str, packages: Sequence[str], month: str) -> str:
    """Key of the Debian base: the suite, the packages asked for, and the month it was made.

    The month makes the base follow Debian's point releases (security and bug fixes land in
    bookworm every two months or so) at the cost of one rebuild (under a minute) a month;
    the mirror is left out: any mirror serves the same suite.
    """
    return key_of(suite, "minbase", ",".join(sorted(packages)), month)


def debian_mirror(sources: Iterable[str], suite: str) -> str | None:
    """The first Debian mirror in apt sources (one-line or deb822 text) that serves ``suite``'s
    ``main`` component; None when there is none."""
    for text in sources:
        for uri, suites, components in _source_entries(text):
            if suite in suites and "main" in components and "security" not in uri:
                return uri.rstrip("/")
    return None


def _source_entries(text: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """(URI, suites, components) of each deb entry, one-line or deb822 format."""
    for line in text.splitlines():
        fields = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(fields) >= 4 and fields[0] == "deb":
            yield fields[1], [fields[2]], fields[3:]
    for stanza in re.split(r"\n\s*\n", text):
        values: dict[str, str] = {}
        for line in stanza.splitlines():
            name, colon, value = line.partition(":")
            if colon and not line.startswith((" ", "#")):
                values[name.strip().lower()] = value.strip()
        if "deb" in values.get("types", "").split() and values.get("enabled", "yes") != "no":
            for uri in values.get("uris", "").split():
                yield uri, values.get("suites", "").split(), values.get("components", "").split()


def wheel_fits(
    filename: str,
    python: tuple[int, int] = TARGET_PYTHON,
    glibc: tuple[int, int] = TARGET_GLIBC,
    machine: str = TARGET_MACHINE,
) -> bool:
    """Whether pip in the image (CPython ``python`` on glibc ``glibc``) can install the wheel."""
    stem = filename.removesuffix(".whl")
    parts = stem.split("-")
    if len(parts) < 5 or stem == filename:
        return False
    python_tags, abi_tags, platform_tags = (part.split(".") for part in parts[-3:])
    cpython = f"cp{python[0]}{python[1]}"
    python_ok = any(
        tag in {"py3", f"py{python[0]}{python[1]}", cpython}
        or (tag.startswith("cp3") and "abi3" in abi_tags and int(tag[3:]) <= python[1])
        for tag in python_tags
    )
    abi_ok = any(tag in {"none", "abi3", cpython} for tag in abi_tags)
    return python_ok and abi_ok and any(_platform_fits(t, glibc, machine) for t in platform_tags)


def _platform_fits(tag: str, glibc: tuple[int, int], machine: str) -> bool:
    if tag == "any":
        return True
    if not tag.endswith(f"_{machine}"):
        return False
    family = tag.removesuffix(f"_{machine}")
    if family == "linux":  # built on this host, a bookworm like the image
        return True
    if family in _LEGACY_MANYLINUX:
        return _LEGACY_MANYLINUX[family] <= glibc
    match = re.fullmatch(r"manylinux_(\d+)_(\d+)", family)
    return match is not None and (int(match[1]), int(match[2])) <= glibc


def wheelhouse_requirements(pyproject: Path) -> list[str]:
    """The project's runtime dependencies and its ``[build-system] requires`` (pip needs both
    to install the project offline)."""
    document = tomllib.loads(pyproject.read_text())
    runtime: list[str] = document["project"]["dependencies"]
    build: list[str] = document["build-system"]["requires"]
    return [*runtime, *build]


def build_wheelhouse(python: Path, project: Path, wheels: Path) -> list[str]:
    """Wheels of the project's runtime dependencies and build requirements in ``wheels``
    (made on the host with the network pip has), checked against the image's Python. The
    project itself is not built here: the image builds it from its sources.

    Returns the wheel file names. Raises ValueError naming any wheel the image cannot install.
    """
    partial = wheels.with_name(wheels.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    environment = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    requirements = wheelhouse_requirements(project / "pyproject.toml")
    subprocess.run(
        [str(python), "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial), *requirements],
        check=True,
        env=environment,
    )
    names = sorted(path.name for path in partial.glob("*.whl"))
    misfits = [name for name in names if not wheel_fits(name)]
    if misfits:
        raise ValueError(
            f"these wheels do not install on Python {TARGET_PYTHON} / glibc {TARGET_GLIBC}: "
            f"{misfits}"
        )
    shutil.rmtree(wheels, ignore_errors=True)
    partial.rename(wheels)
    return names
