"""The import-linter contracts bite: a forbidden import added to a copy of the package is reported.

Each case copies operator/slokeeper into a temporary directory, appends one import line to a
package's __init__.py, and runs lint-imports on the copy with the contracts of pyproject.toml. The
real tree is never touched. The cases are derived from the contracts themselves: every layer may
not import the layer above it, siblings in one layer may not import each other, and the pure core
may import none of its forbidden modules. Each asserts that the added import itself is named, so a
violation already in the tree (or one another change introduces) can neither pass nor fail a case.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CONFIG: dict[str, Any] = PYPROJECT["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts(kind: str) -> list[dict[str, Any]]:
    return [c for c in CONFIG["contracts"] if c["type"] == kind]


def _contract(kind: str) -> dict[str, Any]:
    (contract,) = _contracts(kind)
    return contract


def _forbidden_cases() -> list[Any]:
    """(source, its forbidden modules) for every source of every forbidden contract."""
    return [
        pytest.param(source, contract["forbidden_modules"], id=f"{source}: {contract['name']}")
        for contract in _contracts("forbidden")
        for source in contract["source_modules"]
    ]


def _layers() -> list[list[str]]:
    return [[name.strip() for name in layer.split("|")] for layer in _contract("layers")["layers"]]


def _layer_cases() -> list[Any]:
    """(importer, imported): each layer reaching one up, and each sibling reaching the next."""
    layers = _layers()
    cases = [
        pytest.param(lower, upper[0], id=f"{lower} may not import {upper[0]} (the layer above)")
        for upper, below in itertools.pairwise(layers)
        for lower in below
    ]
    cases += [
        pytest.param(a, b, id=f"{a} may not import its sibling {b}")
        for layer in layers
        if len(layer) > 1
        for a, b in itertools.pairwise([*layer, layer[0]])
    ]
    return cases


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings and lists of strings are written alike in TOML and JSON


def _write_config(path: Path) -> None:
    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {_toml(value)}" for key, value in CONFIG.items() if key != "contracts"]
    for contract in CONFIG["contracts"]:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{key} = {_toml(value)}" for key, value in contract.items()]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the package (only its sources) beside a config holding the project's contracts."""
    shutil.copytree(
        REPO / "operator" / CONFIG["root_package"],
        tmp_path / CONFIG["root_package"],
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    _write_config(tmp_path / "contracts.toml")
    return tmp_path


def _add_imports(copy: Path, importer: str, imported: list[str]) -> list[int]:
    """Appends `import <name>` for each name to the importer's __init__.py; returns their lines."""
    init = copy.joinpath(*importer.split("."), "__init__.py")
    text = init.read_text().rstrip("\n")
    first = text.count("\n") + 2 if text else 1
    init.write_text((text + "\n" if text else "") + "".join(f"import {m}\n" for m in imported))
    return list(range(first, first + len(imported)))


def _lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", "contracts.toml"],
        cwd=copy,
        env={"PYTHONPATH": str(copy), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _reported(output: str, importer: str, imported: str, line: int) -> bool:
    pattern = rf"{re.escape(importer)} -> {re.escape(imported)} \(l\.{line}\)"
    return re.search(pattern, output) is not None


@pytest.mark.parametrize(("importer", "imported"), _layer_cases())
def test_an_import_against_the_layers_fails_lint_imports(
    package_copy: Path, importer: str, imported: str
) -> None:
    (line,) = _add_imports(package_copy, importer, [imported])
    result = _lint_imports(package_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _reported(result.stdout, importer, imported, line), result.stdout


@pytest.mark.parametrize(("core", "forbidden"), _forbidden_cases())
def test_every_forbidden_module_imported_by_the_core_fails_lint_imports(
    package_copy: Path, core: str, forbidden: list[str]
) -> None:
    lines = _add_imports(package_copy, core, forbidden)
    result = _lint_imports(package_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    missed = [
        module
        for module, line in zip(forbidden, lines, strict=True)
        if not _reported(result.stdout, core, module, line)
    ]
    assert not missed, f"not reported: {missed}\n{result.stdout}"


def test_allowed_imports_are_not_reported(package_copy: Path) -> None:
    """The control: downward imports and the core's pure stdlib pass, so the cases above prove
    something. (Violations already in the tree may still fail the run; this names none of ours.)"""
    allowed = {
        "slokeeper.cli": ["slokeeper.handlers", "slokeeper.slo"],
        "slokeeper.loops": ["slokeeper.api", "slokeeper.rollout"],
        "slokeeper.rollout": ["slokeeper.slo", "dataclasses", "math", "zoneinfo"],
        "slokeeper.slo": ["datetime", "statistics", "re"],
    }
    added = {
        (importer, module, line)
        for importer, modules in allowed.items()
        for module, line in zip(modules, _add_imports(package_copy, importer, modules), strict=True)
    }
    result = _lint_imports(package_copy)
    assert "Contracts:" in result.stdout, result.stdout + result.stderr
    reported = [case for case in added if _reported(result.stdout, *case)]
    assert not reported, result.stdout
