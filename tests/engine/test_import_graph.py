"""The engine reads bottom-up: no module's import order is load-bearing.

Two checks: every engine module imports first in a fresh interpreter, and the
import graph of ``backend/engine`` (every import statement, including those
inside functions and under ``TYPE_CHECKING``) has no circle.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "backend" / "engine"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The engine modules that ``name`` imports, by absolute name."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from . import schedule` names a submodule; `from .nodes import get_node_type` the package.
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def import_graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_import_graph_sees_the_engine() -> None:
    graph = import_graph()
    assert "backend.engine.runner" in graph["backend.engine"]
    assert "backend.engine.nodes.base" in graph["backend.engine.nodes.vote"]
    assert "backend.engine.errors" in graph["backend.engine.nodes.base"]
    assert len(graph) >= 30


def test_the_engine_import_graph_has_no_circle() -> None:
    try:
        order = list(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import circle in backend/engine: {' -> '.join(exc.args[1])}") from None
    assert set(order) == set(MODULES)


def test_the_shared_types_import_nothing_of_the_engine() -> None:
    graph = import_graph()
    for bottom in ("backend.engine.errors", "backend.engine.types"):
        assert graph[bottom] == set(), bottom


def test_the_cycle_check_would_see_a_circle() -> None:
    graph = import_graph()
    graph["backend.engine.errors"] = {"backend.engine.runner"}
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError:
        return
    raise AssertionError("a circle through errors -> runner went unnoticed")


def test_every_engine_module_imports_first_in_a_fresh_interpreter() -> None:
    # One interpreter per module, started together: two cores make this about a second.
    procs = {
        name: subprocess.Popen([sys.executable, "-c", f"import {name}"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in MODULES
    }
    failures = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures[name] = err.strip().splitlines()[-1:]
    assert not failures, failures


def test_the_scheduler_decisions_need_only_the_spec() -> None:
    assert import_graph()["backend.engine.schedule"] == {"backend.engine.spec"}
