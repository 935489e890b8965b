"""The layers hold: no import circle between loyalty's packages, and core knows no feature.

The graph is read from the source with ast, so an import inside a function counts as much as one at
the top of a module (a late import hides a circle from Python, not from the design). A node is a
package under loyalty/ (members, webhooks, ...) or a top-level module (wiring, cli, scheduler, ...).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "loyalty"
# ARCHITECTURE.md puts core and config together at the bottom: Config validates its webhook secret with
# core.signing while core's jobs and migrations read Config, so the two are one layer here.
BASE = {"core", "config"}
APP = "__init__"  # loyalty/__init__.py: create_app, which wires everything


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _node(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "loyalty":
        return None
    if len(parts) == 1:
        return APP
    return "base" if parts[1] in BASE else parts[1]


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # `from loyalty import wiring` imports the module wiring, not create_app's package.
            if target == "loyalty":
                found += [(f"loyalty.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((target, node.lineno))
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, dict[str, list[str]]]:
    """node -> imported node -> where ("loyalty/members/service.py:29"), for imports between nodes."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        module, is_package = _module_name(path, root)
        source = _node(module)
        for target, line in _imported(ast.parse(path.read_text(), str(path)), module, is_package):
            imported = _node(target)
            if imported is not None and imported != source:
                graph[source][imported].append(f"{path.relative_to(root.parent)}:{line}")
    return graph


def circles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _explain(graph, component: list[str]) -> str:
    return "; ".join(
        f"{source} -> {target} ({', '.join(graph[source][target])})"
        for source in component
        for target in component
        if target in graph.get(source, {})
    )


def test_no_import_circle_between_packages():
    graph = import_graph()
    found = circles(graph)
    assert not found, "import circles: " + " | ".join(f"{c}: {_explain(graph, c)}" for c in found)


def test_core_imports_no_feature():
    above = {target: where for target, where in import_graph()["base"].items()}
    assert not above, f"core (and config) import features or the app: {above}"


def test_the_graph_sees_what_it_checks():
    # A reader that found no edges, or missed late imports, would pass both tests above vacuously.
    graph = import_graph()
    assert {"members", "points", "orders", "webhooks"} <= set(graph)
    assert "base" in graph["members"] and "members" in graph["orders"]


def test_circles_are_found_through_late_and_relative_imports(tmp_path):
    package = tmp_path / "loyalty"
    for name, text in {
        "__init__.py": "",
        "a/__init__.py": "",
        "a/service.py": "def run():\n    from loyalty.b.service import go\n",
        "b/__init__.py": "",
        "b/service.py": "from ..c import rules\n",
        "c/__init__.py": "",
        "c/rules.py": "from loyalty import a\n",
        "core/__init__.py": "",
        "core/db.py": "from loyalty.core import errors\n",
    }.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    graph = import_graph(package)
    assert circles(graph) == [["a", "b", "c"]]
    assert graph["b"]["c"] == ["loyalty/b/service.py:1"]
    assert "base" not in graph  # core importing core is no edge
