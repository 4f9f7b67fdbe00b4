"""A validation problem: where it is (a JSON path) and what is wrong, in words."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .limits import MAX_JSON_DEPTH

ERROR = "error"
# Worth a look, but the graph saves and runs (a join that reads a step only some paths reach).
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    path: str  # e.g. "nodes[3].config.max_workers"
    message: str
    node_id: str | None = None
    severity: str = ERROR

    def to_dict(self) -> dict:
        out = {"path": self.path, "message": self.message, "node_id": self.node_id}
        if self.severity != ERROR:  # errors keep the shape every client already reads
            out["severity"] = self.severity
        return out


def blocking(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that stop a graph from being saved or run: every one but the warnings."""
    return [p for p in problems if p.severity == ERROR]

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def join_path(base: str, *parts: str | int) -> str:
    """Append keys and indexes to a JSON path: join_path("nodes[2]", "config", "x")."""
    path = base
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = str(part)
    return path


def depth_problem(value: Any, base: str, limit: int = MAX_JSON_DEPTH) -> Problem | None:
    """A problem naming the field whose value nests arrays and objects more than ``limit`` levels deep, or None.

    Walks with an explicit stack: the value may be far deeper than Python's recursion limit.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, base)]
    while stack:
        item, level, field = stack.pop()
        if isinstance(item, dict):
            children: Iterable[tuple[str | int, Any]] = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if level > limit:
            return Problem(field, f"nested more than {limit} levels deep (arrays and objects inside one another)")
        # The path names the top-level field holding the deep value, not every level below it.
        stack.extend((child, level + 1, join_path(base, key) if level == 1 else field) for key, child in children)
    return None
