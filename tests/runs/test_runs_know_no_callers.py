"""``runs`` does not depend on ``endpoints``: a run does not know its callers (DESIGN "The end of a run").

A static read of every module under backend/runs/ (migrations too): no import of ``backend.endpoints``, by
absolute or relative name, at the top or inside a function, nor through ``import_module``; and no ORM lookup
through the endpoints app's reverse relations (``endpoint_call__...``), which would be the same dependency
without an import. The endpoints app registers its call records with ``runs.callers`` instead.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "backend" / "runs"
FORBIDDEN = "backend.endpoints"
# Reverse accessors the endpoints app adds to Run (EndpointCall.run, CallbackDelivery.run, IdempotencyRecord.run).
REVERSE_NAMES = ("endpoint_call", "callbackdelivery", "idempotencyrecord")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    anchor = package.split(".")
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def endpoint_dependencies(path: Path, source: str | None = None) -> list[str]:
    """What in this module reaches into the endpoints app: imports, import_module("..."), reverse lookups."""
    module = _module_name(path)
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names = [str(node.args[0].value)]
        elif isinstance(node, ast.keyword) and node.arg and node.arg.split("__")[0] in REVERSE_NAMES:
            names = [f"lookup {node.arg}"]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value.split("__")[0] in REVERSE_NAMES and "__" in node.value:
            names = [f"lookup {node.value}"]
        found += [f"{path.relative_to(ROOT)}:{node.lineno}: {name}" for name in names  # type: ignore[attr-defined]
                  if name == FORBIDDEN or name.startswith(FORBIDDEN + ".") or name.startswith("lookup ")]
    return found


def test_no_module_under_runs_reaches_into_the_endpoints_app() -> None:
    modules = sorted(RUNS.rglob("*.py"))
    assert len(modules) > 30 and RUNS / "callers.py" in modules
    problems = [problem for path in modules for problem in endpoint_dependencies(path)]
    assert problems == [], "backend/runs must not depend on backend/endpoints:\n" + "\n".join(problems)


def test_the_check_sees_each_way_of_depending_on_endpoints() -> None:
    path = RUNS / "selectors.py"  # read as if it held each line below
    for line in ("import backend.endpoints.models",
                 "from backend.endpoints.models import EndpointCall",
                 "from backend.endpoints import selectors",
                 "from ..endpoints import models",
                 "from ..endpoints.results import run_result",
                 "def later():\n    from backend.endpoints.models import ApiKey",
                 "importlib.import_module('backend.endpoints.models')",
                 "Run.objects.filter(endpoint_call__request_id='x')",
                 "Run.objects.values('endpoint_call__api_key')"):
        assert endpoint_dependencies(path, line), f"not seen: {line}"
    for line in ("from .models import Run", "from backend.graphs.models import Graph", "x = 'endpoints'",
                 "from ..providers import gateway"):
        assert endpoint_dependencies(path, line) == [], f"wrongly seen: {line}"
