"""The package's import graph has no cycle (issue 15).

Every module of ``tui_trader`` is parsed with ``ast`` (nothing is imported). The imports that
run when it loads (top level, ``try``/``with``/``if`` blocks; not function or class bodies, not
``if TYPE_CHECKING:`` blocks) become edges: ``import a.b`` depends on
``a.b``; ``from a import b`` depends on ``a`` (it reads ``a``'s namespace, so ``a/__init__``
must have run) and on ``a.b`` when ``b`` is a submodule. A cycle means that which module
finishes loading first depends on who imports first: a half-initialised module at best, an
``ImportError`` at worst. The test names the cycle it finds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tui_trader

ROOT = Path(tui_trader.__file__).parent
PACKAGE = "tui_trader"


def _module_name(path: Path, root: Path = ROOT) -> str:
    """``tui_trader/sandbox/app.py`` -> ``tui_trader.sandbox.app`` (``__init__`` -> package)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    """True for ``if TYPE_CHECKING:`` and ``if typing.TYPE_CHECKING:``."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads (not in functions, classes or TYPE_CHECKING blocks)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                found += _top_level_imports(node.body) + _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _top_level_imports(block)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
        elif isinstance(node, ast.With):
            found += _top_level_imports(node.body)
    return found


def build_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module name -> the package's modules it imports when it loads."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    packages = {_module_name(p, root) for p in root.rglob("__init__.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        here = name if name in packages else name.rpartition(".")[0]
        for node in _top_level_imports(tree.body):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names}
                continue
            if node.level:
                base_parts = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            edges.add(base)
            edges |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files}
        graph[name] = {e for e in edges if e in files and e != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (depth-first search, deterministic order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_package_import_graph_has_no_cycle() -> None:
    """No module of tui_trader imports, directly or not, something that imports it back."""
    graph = build_graph()
    assert len(graph) > 100, "the walk found too few modules: is ROOT right?"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_names_a_cycle_and_ignores_type_checking(tmp_path: Path) -> None:
    """A two-module cycle is found and named; the same imports under TYPE_CHECKING are not one."""
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from tui_trader.a import x\n")
    (pkg / "a.py").write_text("from tui_trader import b\nx = 1\n")
    (pkg / "b.py").write_text("import os\n")
    assert find_cycle(build_graph(pkg)) == ["tui_trader", "tui_trader.a", "tui_trader"]
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tui_trader import b\nx = 1\n"
    )
    assert find_cycle(build_graph(pkg)) is None
