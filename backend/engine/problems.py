"""A validation problem: where it is (a JSON path) and what is wrong, in words."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str  # e.g. "nodes[3].config.max_workers"
    message: str
    node_id: str | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "message": self.message, "node_id": self.node_id}

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


class InvalidGraph(Exception):
    """Raised when a spec that failed validation is asked to run."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))
