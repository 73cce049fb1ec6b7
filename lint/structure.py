"""Structure check for the package, run by `make lint`: modules readable in one sitting.

Fails, printing each offender as `file:line: ...`, when
- a module is over MAX_MODULE_LINES lines;
- a function or method is over MAX_FUNCTION_LINES lines (from `def` to its last line), unless it
  is a declarative table listed in TABLES with its reason;
- modules of the package import each other in a circle, at any depth and wherever the import
  sits (inside a function or under `if TYPE_CHECKING:`: a circle is a circle).

Run: .venv/bin/python lint/structure.py [PACKAGE_DIR]   (default: operator/slokeeper)
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60

# Functions whose body is essentially one literal (a table of data), allowed to be long:
# "<path from the repository root>:<qualified name>": "why it is a table".
TABLES: dict[str, str] = {}

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGE = REPO / "operator" / "slokeeper"


@dataclass(frozen=True)
class Module:
    """One module of the package: its dotted name, file and parsed tree."""

    name: str
    path: Path
    tree: ast.Module
    lines: int
    is_package: bool


@dataclass(frozen=True)
class Import:
    """An import of one module of the package by another, with the line it is on."""

    source: str
    target: str
    line: int


def load(package: Path) -> dict[str, Module]:
    """Every module under `package` (a directory with __init__.py), by dotted name."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = [package.name, *path.relative_to(package).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        text = path.read_text()
        name = ".".join(parts)
        tree = ast.parse(text, filename=str(path))
        modules[name] = Module(name, path, tree, len(text.splitlines()), is_package)
    return modules


def long_modules(modules: dict[str, Module], root: Path) -> Iterator[str]:
    for module in modules.values():
        if module.lines > MAX_MODULE_LINES:
            yield (
                f"{_where(module.path, root)}:1: module has {module.lines} lines "
                f"(max {MAX_MODULE_LINES})"
            )


class _Functions(ast.NodeVisitor):
    """Collects every function and method, nested ones included, with its qualified name."""

    def __init__(self) -> None:
        self.found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        self._scope: list[str] = []

    def _enter(self, node: ast.AST, name: str) -> None:
        self._scope.append(name)
        self.generic_visit(node)
        self._scope.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._enter(node, node.name)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.found.append((".".join([*self._scope, node.name]), node))
        self._enter(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.found.append((".".join([*self._scope, node.name]), node))
        self._enter(node, node.name)


def long_functions(
    modules: dict[str, Module], root: Path, tables: dict[str, str] | None = None
) -> Iterator[str]:
    allowed = TABLES if tables is None else tables
    for module in modules.values():
        where = _where(module.path, root)
        functions = _Functions()
        functions.visit(module.tree)
        for name, node in functions.found:
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES and f"{where}:{name}" not in allowed:
                yield (
                    f"{where}:{node.lineno}: {name} has {length} lines (max {MAX_FUNCTION_LINES})"
                )


def imports(modules: dict[str, Module]) -> list[Import]:
    """Imports between modules of the package, each resolved to the module it names."""
    found: list[Import] = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, module)
                names = [_submodule_or(base, alias.name, modules) for alias in node.names]
            else:
                continue
            found.extend(
                Import(module.name, name, node.lineno)
                for name in names
                if name in modules and name != module.name
            )
    return found


def _submodule_or(base: str, name: str, modules: dict[str, Module]) -> str:
    """`from base import name` imports the module base.name if there is one, else base."""
    return f"{base}.{name}" if f"{base}.{name}" in modules else base


def _absolute(node: ast.ImportFrom, module: Module) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package.pop()
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def cycles(modules: dict[str, Module], root: Path) -> Iterator[str]:
    """A shortest circle through each module caught in one, as `a → b → a`."""
    edges: dict[str, dict[str, int]] = {}
    for found in imports(modules):
        targets = edges.setdefault(found.source, {})
        targets[found.target] = min(found.line, targets.get(found.target, found.line))
    covered: set[str] = set()
    for start in sorted(modules):
        if start in covered:
            continue
        circle = _shortest_circle(start, edges)
        if circle is None:
            continue
        covered.update(circle)
        first = modules[circle[0]]
        line = edges[circle[0]][circle[1]]
        chain = " → ".join(circle)
        hops = ", ".join(
            f"{_where(modules[a].path, root)}:{edges[a][b]}" for a, b in itertools.pairwise(circle)
        )
        yield f"{_where(first.path, root)}:{line}: import cycle {chain} (imports at {hops})"


def _shortest_circle(start: str, edges: dict[str, dict[str, int]]) -> list[str] | None:
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in sorted(edges.get(current, {})):
            if target == start:
                path = [current]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if target not in parents:
                parents[target] = current
                queue.append(target)
    return None


def _where(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check(package: Path, root: Path, tables: dict[str, str] | None = None) -> list[str]:
    """Every offence in the package, as `file:line: message` (paths relative to `root`)."""
    modules = load(package)
    return [
        *long_modules(modules, root),
        *long_functions(modules, root, tables),
        *cycles(modules, root),
    ]


def main(argv: list[str]) -> int:
    package = Path(argv[0]).resolve() if argv else DEFAULT_PACKAGE
    offences = check(package, REPO if package.is_relative_to(REPO) else package.parent)
    for offence in offences:
        print(offence)
    if offences:
        print(f"structure: {len(offences)} offence(s) in {package}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
