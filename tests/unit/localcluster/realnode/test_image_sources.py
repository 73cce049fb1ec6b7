"""Cache keys change exactly when an image's sources do; the mirror comes from apt's sources;
a wheel is used only when the image's Python can install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from slokeeper.localcluster.realnode.image_sources import (
    base_key,
    debian_mirror,
    tree_key,
    wheel_fits,
    wheelhouse_requirements,
)

REPO = Path(__file__).resolve().parents[4]


def _project(tmp_path: Path) -> Path:
    (tmp_path / "operator/pkg").mkdir(parents=True)
    (tmp_path / "operator/pkg/a.py").write_text("A = 1\n")
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    return tmp_path


def test_a_changed_or_added_source_changes_the_key(tmp_path: Path) -> None:
    project = _project(tmp_path)
    paths = ("Dockerfile", "operator")
    before = tree_key(project, paths)
    assert tree_key(project, paths) == before
    (project / "operator/pkg/a.py").write_text("A = 2\n")
    changed = tree_key(project, paths)
    assert changed != before
    (project / "operator/pkg/b.py").write_text("")
    assert tree_key(project, paths) != changed


def test_caches_and_bytecode_do_not_change_the_key(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = tree_key(project, ("operator",))
    (project / "operator/pkg/__pycache__").mkdir()
    (project / "operator/pkg/__pycache__/a.cpython-311.pyc").write_bytes(b"\0")
    (project / "operator/pkg/.mypy_cache").mkdir()
    (project / "operator/pkg/.mypy_cache/x.json").write_text("{}")
    assert tree_key(project, ("operator",)) == before


def test_a_rename_changes_the_key_and_extra_parts_count(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = tree_key(project, ("operator",))
    (project / "operator/pkg/a.py").rename(project / "operator/pkg/c.py")
    assert tree_key(project, ("operator",)) != before
    assert tree_key(project, ("operator",), "base-1") != tree_key(project, ("operator",), "base-2")


def test_the_base_is_rebuilt_each_month_and_for_other_packages() -> None:
    packages = ("python3", "python3-venv", "ca-certificates")
    december = base_key("bookworm", packages, "2026-12")
    assert base_key("bookworm", tuple(reversed(packages)), "2026-12") == december
    assert base_key("bookworm", packages, "2027-01") != december
    assert base_key("bookworm", (*packages, "curl"), "2026-12") != december
    assert base_key("trixie", packages, "2026-12") != december


DEB822 = """\
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""


@pytest.mark.parametrize(
    ("sources", "mirror"),
    [
        ([DEB822], "http://deb.debian.org/debian"),
        (["deb [arch=amd64] http://mirror.example/debian/ bookworm main contrib\n"],
         "http://mirror.example/debian"),
        (["# deb http://old.example/debian bookworm main\n", DEB822],
         "http://deb.debian.org/debian"),
        (["deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"], None),
        (["Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n"
          "Enabled: no\n"], None),
    ],
)  # fmt: skip
def test_the_mirror_is_the_one_apt_uses_for_the_suite(sources: list[str], mirror: str) -> None:
    assert debian_mirror(sources, "bookworm") == mirror


def test_the_machines_own_sources_name_a_mirror() -> None:
    texts = [p.read_text() for p in Path("/etc/apt/sources.list.d").glob("*") if p.is_file()]
    main = Path("/etc/apt/sources.list")
    texts += [main.read_text()] if main.is_file() else []
    assert debian_mirror(texts, "bookworm")


@pytest.mark.parametrize(
    ("wheel", "fits"),
    [
        ("prometheus_client-0.26.0-py3-none-any.whl", True),
        ("six-1.17.0-py2.py3-none-any.whl", True),
        ("pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", True),
        ("PyYAML-6.0.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", True),
        ("regex-2026.11.19-cp311-cp311-manylinux_2_36_x86_64.whl", True),
        ("cryptography-50.0.2-cp37-abi3-manylinux_2_28_x86_64.whl", True),
        ("built_here-1.0-cp311-cp311-linux_x86_64.whl", True),
        ("yarl-1.25.1-cp312-cp312-manylinux_2_17_x86_64.whl", False),
        ("newer-1.0-cp311-cp311-manylinux_2_39_x86_64.whl", False),
        ("musl-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", False),
        ("arm-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", False),
        ("abi3_too_new-1.0-cp312-abi3-manylinux_2_17_x86_64.whl", False),
        ("not-a-wheel.tar.gz", False),
    ],
)
def test_a_wheel_fits_bookworms_python_3_11_on_glibc_2_36(wheel: str, fits: bool) -> None:
    assert wheel_fits(wheel) is fits


def test_the_wheelhouse_holds_the_runtime_and_build_requirements() -> None:
    requirements = wheelhouse_requirements(REPO / "pyproject.toml")
    assert "prometheus-client>=0.20" in requirements
    assert any(r.startswith("setuptools") for r in requirements)
    assert not any(r.startswith(("pytest", "matplotlib", "ruff")) for r in requirements)
