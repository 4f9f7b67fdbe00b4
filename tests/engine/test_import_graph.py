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


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
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


# `import backend.engine.X` runs backend/engine/__init__.py first, which imports most of the engine
# in its own order; that order must not be what keeps X importable. So for each module X, with no
# engine module loaded, an empty `backend.engine` package is put in place and X is imported truly
# first (once X is whole, the rest loads as it always does: `import backend.engine` is checked last).
# One fresh interpreter does this for every module in turn, dropping every engine module between
# them: an interpreter per module costs ~0.2 s of CPU each to repeat third-party imports (jinja2,
# jsonschema) that cannot import the engine.
FIRST_IMPORTS = """
import importlib, sys, types
engine, names = {engine!r}, {names!r}
failures = []
for name in names:
    for loaded in [m for m in sys.modules if m == "backend.engine" or m.startswith("backend.engine.")]:
        del sys.modules[loaded]
    package = types.ModuleType("backend.engine")
    package.__path__ = [engine]
    sys.modules["backend.engine"] = package
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures.append(f"{{name}}: {{type(exc).__name__}}: {{exc}}")
for loaded in [m for m in sys.modules if m == "backend.engine" or m.startswith("backend.engine.")]:
    del sys.modules[loaded]
if not callable(importlib.import_module("backend.engine").execute_graph):
    failures.append("backend.engine: no execute_graph")
print("\\n".join(failures))
"""


def first_import_failures(root: Path, engine: Path) -> list[str]:
    """Each module of ``engine`` imported first: what failed, one line each."""
    names = [_module_name(p, root) for p in sorted(engine.rglob("*.py"))]
    script = FIRST_IMPORTS.format(engine=str(engine), names=names)
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_every_engine_module_imports_first_in_a_fresh_interpreter() -> None:
    assert first_import_failures(ROOT, ENGINE) == []


def test_the_first_import_check_sees_an_order_that_is_load_bearing(tmp_path: Path) -> None:
    # A two-module circle that `import pkg` hides (its __init__ imports b first) but importing a first shows.
    engine = tmp_path / "backend" / "engine"
    engine.mkdir(parents=True)
    (tmp_path / "backend" / "__init__.py").write_text("")
    (engine / "__init__.py").write_text("from .b import B\nexecute_graph = print\n")
    (engine / "a.py").write_text("from .b import B\nA = 1\n")
    (engine / "b.py").write_text("B = 2\nfrom .a import A\n")
    failures = first_import_failures(tmp_path, engine)
    assert len(failures) == 1 and failures[0].startswith("backend.engine.a: ImportError")


def test_the_scheduler_decisions_need_only_the_spec() -> None:
    assert import_graph()["backend.engine.schedule"] == {"backend.engine.spec"}
