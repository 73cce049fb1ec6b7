"""A directory becomes a docker-archive naming its layer by digest, as ctr and podman read it."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

from slokeeper.localcluster.realnode.image_archive import (
    ImageConfig,
    read_archive_manifest,
    tar_directory,
    write_docker_archive,
)


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/hello").write_text("#!/bin/sh\necho hello\n")
    (root / "usr/bin/hello").chmod(0o755)
    os.link(root / "usr/bin/hello", root / "usr/bin/hello-again")
    (root / "bin").symlink_to("usr/bin")
    (root / "tmp").mkdir()
    return root


def test_the_layer_keeps_modes_links_and_relative_paths(tmp_path: Path) -> None:
    layer = tmp_path / "layer.tar"
    tar_directory(_root(tmp_path), layer)
    with tarfile.open(layer) as archive:
        members = {member.name: member for member in archive.getmembers()}
    assert set(members) >= {"bin", "tmp", "usr/bin/hello", "usr/bin/hello-again"}
    assert members["bin"].issym()
    assert members["bin"].linkname == "usr/bin"
    assert members["usr/bin/hello"].mode & 0o777 == 0o755
    assert members["usr/bin/hello-again"].mode & 0o777 == 0o755
    pair = [members["usr/bin/hello"], members["usr/bin/hello-again"]]
    assert sorted(member.islnk() for member in pair) == [False, True], "one hard link, one file"
    assert not any(name.startswith(("/", "./")) for name in members)


def test_the_archive_holds_config_layer_and_manifest_named_by_digest(tmp_path: Path) -> None:
    layer = tmp_path / "layer.tar"
    tar_directory(_root(tmp_path), layer)
    archive = tmp_path / "out" / "image.tar"
    config = ImageConfig(entrypoint=("/usr/bin/hello",), user="65532:65532")
    image_id = write_docker_archive(
        layer, config, ["localhost/hello:1", "localhost/hello:a"], archive
    )

    (entry,) = read_archive_manifest(archive)
    layer_digest = hashlib.sha256(layer.read_bytes()).hexdigest()
    assert entry == {
        "Config": f"{image_id.removeprefix('sha256:')}.json",
        "RepoTags": ["localhost/hello:1", "localhost/hello:a"],
        "Layers": [f"{layer_digest}/layer.tar"],
    }
    with tarfile.open(archive) as outer:
        config_bytes = outer.extractfile(str(entry["Config"])).read()  # type: ignore[union-attr]
        inner = outer.extractfile(f"{layer_digest}/layer.tar").read()  # type: ignore[union-attr]
    assert hashlib.sha256(config_bytes).hexdigest() == image_id.removeprefix("sha256:")
    assert inner == layer.read_bytes()
    document = json.loads(config_bytes)
    assert document["rootfs"] == {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]}
    assert document["config"]["Entrypoint"] == ["/usr/bin/hello"]
    assert document["config"]["User"] == "65532:65532"
    assert document["architecture"] == "amd64"
    assert document["os"] == "linux"
    assert archive.stat().st_mode & 0o777 == 0o644
    assert list(archive.parent.iterdir()) == [archive], "no partial file is left"


def test_the_same_layer_and_config_give_the_same_image_id(tmp_path: Path) -> None:
    layer = tmp_path / "layer.tar"
    tar_directory(_root(tmp_path), layer)
    first = write_docker_archive(layer, ImageConfig(), ["a:1"], tmp_path / "a.tar")
    second = write_docker_archive(layer, ImageConfig(), ["b:2"], tmp_path / "b.tar")
    other = write_docker_archive(layer, ImageConfig(cmd=("sh",)), ["a:1"], tmp_path / "c.tar")
    assert first == second != other
