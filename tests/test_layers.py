"""The layers contract covers every module, and no two modules import each other in a circle.

import-linter (`make lint`) checks the imports of the modules its layers name; a module that no
layer names would escape it, so every module must be named (migrations, app configs and package
`__init__`s aside). Siblings joined by ":" in a layer may import each other; a cycle among them
would still make two mechanisms one, so none is allowed anywhere in the project.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*CONFIG["root_packages"], cache_dir=None)


def _layer_names() -> list[str]:
    (contract,) = [c for c in CONFIG["contracts"] if c["type"] == "layers"]
    return [
        name.strip().strip("()")
        for layer in contract["layers"]
        for name in re.split(r"[|:]", layer)
        if name.strip()
    ]


def _exempt(graph: grimp.ImportGraph, module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return ".migrations" in module or last == "apps" or bool(graph.find_children(module))


def test_every_module_is_in_a_layer():
    graph = _graph()
    names = _layer_names()
    unnamed = [
        module
        for module in sorted(graph.modules)
        if not _exempt(graph, module)
        and not any(module == name or module.startswith(name + ".") for name in names)
    ]
    assert not unnamed, f"add these modules to a layer in pyproject.toml: {unnamed}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan's algorithm)."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if ".migrations" in imported:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycles():
    graph = _graph()
    cycles = _cycles(graph)
    assert not cycles, "modules importing each other in a circle: " + "; ".join(
        " ↔ ".join(group) for group in cycles
    )


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("app", "app.a", "app.b", "app.c"):
        graph.add_module(module)
    graph.add_import(importer="app.a", imported="app.b")
    graph.add_import(importer="app.b", imported="app.a")
    graph.add_import(importer="app.c", imported="app.a")
    assert _cycles(graph) == [["app.a", "app.b"]]
