"""Writes a one-layer image as a docker-archive tar, the format `ctr images import` and
`podman load` read: a layer tar, a config JSON named by its digest, and manifest.json.

``images.py`` calls it for the Debian base (a debootstrap directory) and the pause image (one
static binary), so neither needs a registry or an image builder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageConfig:
    """What a runtime reads from the image config: the process to start and how."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: Mapping[str, str] = field(
        default_factory=lambda: {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        }
    )
    user: str = ""
    created: str = "1970-01-01T00:00:00Z"
    comment: str = ""


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def config_json(config: ImageConfig, layer_digest: str) -> bytes:
    """The image config (OCI/Docker form) for one layer whose uncompressed digest is given."""
    runtime: dict[str, object] = {"Env": [f"{key}={value}" for key, value in config.env.items()]}
    if config.entrypoint:
        runtime["Entrypoint"] = list(config.entrypoint)
    if config.cmd:
        runtime["Cmd"] = list(config.cmd)
    if config.user:
        runtime["User"] = config.user
    document = {
        "architecture": "amd64",
        "os": "linux",
        "created": config.created,
        "config": runtime,
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
        "history": [{"created": config.created, "comment": config.comment or "slokeeper"}],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def manifest_json(config_name: str, layer_name: str, tags: Sequence[str]) -> bytes:
    """manifest.json of a docker-archive holding one image."""
    entry = {"Config": config_name, "RepoTags": list(tags), "Layers": [layer_name]}
    return json.dumps([entry], separators=(",", ":")).encode()


def tar_directory(root: Path, layer: Path) -> None:
    """A layer tar of everything under ``root`` (owners kept as numbers, paths relative).

    GNU tar is several times faster than ``tarfile`` on a 130 MB root filesystem and keeps
    hard links, device nodes and modes exactly.
    """
    members = sorted(entry.name for entry in root.iterdir())
    subprocess.run(
        ["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(layer), *members],
        check=True,
    )


def write_docker_archive(
    layer: Path, config: ImageConfig, tags: Sequence[str], archive: Path
) -> str:
    """Write ``archive`` holding the one-layer image made of the layer tar ``layer``.

    Returns the image ID (``sha256:`` + the config's digest), the ID podman and containerd show.
    The archive is written beside itself and renamed into place, so it exists only complete.
    """
    layer_digest = sha256_file(layer)
    config_bytes = config_json(config, layer_digest)
    config_digest = hashlib.sha256(config_bytes).hexdigest()
    config_name = f"{config_digest}.json"
    layer_name = f"{layer_digest}/layer.tar"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=archive.parent, suffix=".part", delete=False) as part:
        partial = Path(part.name)
    try:
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as outer:
            _add_bytes(outer, config_name, config_bytes)
            outer.add(layer, arcname=layer_name)
            _add_bytes(outer, "manifest.json", manifest_json(config_name, layer_name, tags))
        partial.chmod(0o644)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return f"sha256:{config_digest}"


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def read_archive_manifest(archive: Path) -> list[dict[str, object]]:
    """manifest.json of a docker-archive (what ``podman save`` or this module wrote)."""
    with tarfile.open(archive) as outer:
        member = outer.extractfile("manifest.json")
        if member is None:
            raise ValueError(f"{archive} has no manifest.json")
        manifest: list[dict[str, object]] = json.loads(member.read())
    return manifest
