"""requirements.lock (what the image installs, pinned and hashed) against pyproject.toml.

Fails when the lock no longer satisfies a declared dependency (missing, or pinned outside its
specifier), when a pinned package's own requirement is not pinned (the image installs with
--no-deps, so it would be missing at run time), when a pin has no hash, and when the operator
imports a third-party module whose distribution pyproject.toml does not declare. The fix for the
first three is `make lock`; for the last, a line in pyproject's dependencies.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGE = REPO / "operator" / "slokeeper"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)")


def pins(text: str) -> dict[str, Version]:
    """Canonical name → pinned version of each requirement line of a pip-compile lock."""
    found = {}
    for line in text.splitlines():
        if match := PIN.match(line):
            found[canonicalize_name(match[1])] = Version(match[2])
    return found


def unsatisfied(requirements: list[str], lock: str) -> list[str]:
    """Each requirement the lock does not pin at a version it allows, with why."""
    pinned = pins(lock)
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement.name} is not in the lock")
        elif pinned[name] not in requirement.specifier:
            problems.append(
                f"{requirement.name}=={pinned[name]} is outside {requirement.specifier}"
            )
    return problems


def unhashed(lock: str) -> list[str]:
    """Pinned names whose requirement block carries no --hash."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock)
    return [block.split("==")[0] for block in blocks if PIN.match(block) and "--hash=" not in block]


def _lock(name: str) -> str:
    return (REPO / name).read_text()


def test_the_lock_pins_every_declared_dependency_at_a_version_it_allows() -> None:
    assert not unsatisfied(PYPROJECT["project"]["dependencies"], _lock("requirements.lock"))
    assert not unsatisfied(PYPROJECT["build-system"]["requires"], _lock("requirements-build.lock"))


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda lock: re.sub(r"(?m)^kopf==.*$", "", lock), "kopf is not in the lock"),
        (
            lambda lock: re.sub(r"(?m)^pydantic==\S+", "pydantic==2.1.0", lock),
            "pydantic==2.1.0 is outside >=2.9",
        ),
    ],
    ids=["a-dependency-missing", "a-pin-below-the-lower-bound"],
)
def test_a_stale_lock_is_reported(edit: Callable[[str], str], problem: str) -> None:
    stale = edit(_lock("requirements.lock"))
    assert problem in unsatisfied(PYPROJECT["project"]["dependencies"], stale)


def test_every_pin_carries_its_hashes() -> None:
    for name in ("requirements.lock", "requirements-build.lock"):
        assert not unhashed(_lock(name)), name
    assert unhashed("kopf==1.45.2\n    # via slokeeper (pyproject.toml)\n") == ["kopf"]


def _closure(requirements: list[str]) -> dict[str, str]:
    """Every distribution the declared ones need, read from the installed metadata: name → who
    needs it."""
    needed: dict[str, str] = {}
    todo = [(Requirement(text), "pyproject.toml") for text in requirements]
    while todo:
        requirement, parent = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in needed:
            continue
        needed[name] = parent
        for text in importlib.metadata.requires(requirement.name) or []:
            child = Requirement(text)
            if child.marker is None or child.marker.evaluate({"extra": ""}):
                todo.append((child, requirement.name))
    return needed


def test_what_the_pinned_packages_need_is_pinned_too() -> None:
    pinned = pins(_lock("requirements.lock"))
    missing = {
        name: parent
        for name, parent in _closure(PYPROJECT["project"]["dependencies"]).items()
        if name not in pinned
    }
    assert not missing, f"installed with --no-deps, the image would lack: {missing}"


def _imported_top_level_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                modules.setdefault(name.split(".")[0], path.relative_to(REPO))
    return modules


def test_every_imported_distribution_is_declared() -> None:
    declared = {
        canonicalize_name(Requirement(text).name)
        for text in [
            *PYPROJECT["project"]["dependencies"],
            # `slokeeper report` only, imported when it runs.
            *PYPROJECT["project"]["optional-dependencies"]["report"],
        ]
    }
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, where in _imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module == "slokeeper":
            continue
        owners = {canonicalize_name(d) for d in distributions.get(module, [])}
        assert owners, f"{where} imports {module}, which no installed distribution provides"
        if not owners & declared:
            undeclared[module] = (sorted(owners), str(where))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
