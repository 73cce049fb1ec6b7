"""lint/structure.py on small package trees: each rule catches its offence, a clean tree passes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "lint" / "structure.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("structure_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


structure = _load_script()


def _tree(root: Path, files: dict[str, str]) -> Path:
    """Writes package `pkg` under root with the given modules (paths inside the package)."""
    package = root / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def _function(name: str, lines: int) -> str:
    """A function of exactly `lines` lines, from its def to its return."""
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 2))
    return f"def {name}() -> int:\n{body}    return 0\n"


def _check(package: Path, tables: dict[str, str] | None = None) -> list[str]:
    offences: list[str] = structure.check(package, package.parent, tables)
    return offences


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "a.py": "from pkg import b\n" + _function("short", 60),
            "b.py": "import pkg.c\n" * 2 + "\n" * 440,
            "c.py": "from typing import TYPE_CHECKING\n",
        },
    )
    assert _check(package) == []
    assert structure.main([str(package)]) == 0


def test_a_module_over_450_lines_is_named_with_its_length(tmp_path: Path) -> None:
    package = _tree(tmp_path, {"big.py": "x = 1\n" * 451, "fine.py": "x = 1\n" * 450})
    assert _check(package) == ["pkg/big.py:1: module has 451 lines (max 450)"]


def test_a_function_or_method_over_60_lines_is_named_where_it_starts(tmp_path: Path) -> None:
    method = _function("run", 61).replace("\n", "\n    ").rstrip() + "\n"
    package = _tree(
        tmp_path,
        {
            "funcs.py": "import os\n\n" + _function("long", 61) + _function("fine", 60),
            "klass.py": "class Loop:\n    " + method,
        },
    )
    assert _check(package) == [
        "pkg/funcs.py:3: long has 61 lines (max 60)",
        "pkg/klass.py:2: Loop.run has 61 lines (max 60)",
    ]


def test_a_nested_function_is_measured_on_its_own(tmp_path: Path) -> None:
    inner = _function("inner", 62).replace("\n", "\n    ").rstrip() + "\n"
    package = _tree(tmp_path, {"nested.py": "def outer() -> None:\n    " + inner})
    assert _check(package) == [
        "pkg/nested.py:1: outer has 63 lines (max 60)",
        "pkg/nested.py:2: outer.inner has 62 lines (max 60)",
    ]


def test_a_listed_table_may_be_long(tmp_path: Path) -> None:
    package = _tree(tmp_path, {"table.py": _function("table", 70)})
    assert _check(package, {"pkg/table.py:table": "one dict literal"}) == []
    assert _check(package, {}) == ["pkg/table.py:1: table has 70 lines (max 60)"]


def test_the_allow_list_stays_tiny_and_every_entry_has_a_reason() -> None:
    assert len(structure.TABLES) <= 3
    assert all(reason.strip() for reason in structure.TABLES.values())


@pytest.mark.parametrize(
    ("files", "chain"),
    [
        pytest.param(
            {"a.py": "from pkg import b\n", "b.py": "from pkg.a import X\n"},
            "pkg.a → pkg.b → pkg.a",
            id="two modules importing each other",
        ),
        pytest.param(
            {
                "a.py": "import pkg.b\n",
                "b.py": "from . import c\n",
                "c.py": "def f() -> None:\n    from .a import X\n",
            },
            "pkg.a → pkg.b → pkg.c → pkg.a",
            id="three modules, relative and function-local imports",
        ),
        pytest.param(
            {
                "a.py": "from pkg.b import B\n",
                "b.py": (
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n"
                ),
            },
            "pkg.a → pkg.b → pkg.a",
            id="an import under TYPE_CHECKING still closes the circle",
        ),
        pytest.param(
            {"sub/__init__.py": "from ..sub import leaf\n", "sub/leaf.py": "from pkg import sub\n"},
            "pkg.sub → pkg.sub.leaf → pkg.sub",
            id="a package and its own module",
        ),
    ],
)
def test_an_import_cycle_is_printed_as_a_chain(
    tmp_path: Path, files: dict[str, str], chain: str
) -> None:
    offences = _check(_tree(tmp_path, files))
    assert len(offences) == 1
    assert f"import cycle {chain} (imports at " in offences[0]


def test_a_cycle_names_the_file_and_line_of_each_import(tmp_path: Path) -> None:
    package = _tree(
        tmp_path, {"a.py": "import os\nfrom pkg import b\n", "b.py": "\n\nimport pkg.a\n"}
    )
    assert _check(package) == [
        "pkg/a.py:2: import cycle pkg.a → pkg.b → pkg.a (imports at pkg/a.py:2, pkg/b.py:3)"
    ]


def test_main_prints_each_offence_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = _tree(tmp_path, {"big.py": "x = 1\n" * 500})
    assert structure.main([str(package)]) == 1
    out = capsys.readouterr().out
    assert "big.py:1: module has 500 lines (max 450)" in out
    assert "structure: 1 offence(s)" in out
