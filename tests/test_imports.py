"""The library's import graph has no cycle (issue 12: ``cli → bench → plots → cli`` was one).

A static check over every module of ``analysis/``: an edge is any ``import`` of an
``analysis`` module, at module level or inside a function (a function-level import is still a
dependency, only a deferred one), plus the packages Python initialises on the way (importing
``analysis.plots.style`` from outside runs ``analysis/plots/__init__.py`` first). It reads
source only, so it costs milliseconds and imports nothing heavy.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analysis.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "analysis"


def _modules(root: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every ``analysis`` module that ``name`` imports, wherever the import statement is."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:  # ``from analysis.plots import style`` imports a module
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m == "analysis" or m.startswith("analysis.")}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the modules whose import it triggers (package ``__init__`` files included)."""
    modules = _modules(root)
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in _imported(name, path, modules):
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                step = ".".join(parts[:i])
                # a package's own modules are initialised by it, not a cycle with it
                if step in modules and step != name and not name.startswith(step + "."):
                    edges.add(step)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_library_has_no_import_cycle(graph):
    assert cycles(graph) == []


@pytest.mark.parametrize("module, forbidden", [
    ("analysis.notebooks", {"analysis.cli", "analysis.bench", "analysis.plots"}),
    ("analysis.bench", {"analysis.cli", "analysis.plots"}),
    ("analysis.plots.style", {"analysis.bench", "analysis.cli", "analysis.notebooks"}),
])
def test_layers_point_one_way(graph, module, forbidden):
    assert not graph[module] & forbidden, graph[module] & forbidden


def test_cli_and_bench_share_one_notebook_executor(graph):
    assert "analysis.notebooks" in graph["analysis.cli"] & graph["analysis.bench"]


def test_the_checker_finds_a_cycle_inside_a_function(tmp_path):
    package = tmp_path / "analysis"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from analysis import b\n")
    (package / "b.py").write_text("def f():\n    from analysis.a import x\n")
    (package / "c.py").write_text("from . import b\n")
    assert cycles(import_graph(package)) == [["analysis.a", "analysis.b"]]
