"""The graph spec (patchbay.graph/v1) as immutable, typed objects.

A spec is only built from a document that passed ``validate_graph``; code that
holds a ``GraphSpec`` can rely on ids being unique, edges pointing at real
nodes and the graph being acyclic.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

SCHEMA_ID = "patchbay.graph/v1"


@dataclass(frozen=True)
class Budget:
    max_cost_usd: float | None = None
    max_seconds: float | None = None
    max_llm_calls: int | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> Budget:
        doc = doc or {}
        return cls(
            max_cost_usd=doc.get("max_cost_usd"),
            max_seconds=doc.get("max_seconds"),
            max_llm_calls=doc.get("max_llm_calls"),
        )

    def tightened(self, other: Budget) -> Budget:
        """The stricter of two budgets, limit by limit (a caller may tighten, never loosen)."""

        def stricter(a: Any, b: Any) -> Any:
            if a is None:
                return b
            if b is None:
                return a
            return min(a, b)

        return Budget(
            max_cost_usd=stricter(self.max_cost_usd, other.max_cost_usd),
            max_seconds=stricter(self.max_seconds, other.max_seconds),
            max_llm_calls=stricter(self.max_llm_calls, other.max_llm_calls),
        )

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    config: Mapping[str, Any]
    index: int  # position in the document's node list, for error paths


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    port: str | None = None


@dataclass(frozen=True)
class GraphSpec:
    name: str
    inputs: Mapping[str, Any]
    budget: Budget
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    document: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @cached_property
    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    @cached_property
    def incoming(self) -> dict[str, list[Edge]]:
        result: dict[str, list[Edge]] = {n.id: [] for n in self.nodes}
        for e in self.edges:
            result[e.target].append(e)
        return result

    @cached_property
    def outgoing(self) -> dict[str, list[Edge]]:
        result: dict[str, list[Edge]] = {n.id: [] for n in self.nodes}
        for e in self.edges:
            result[e.source].append(e)
        return result

    @cached_property
    def ancestors(self) -> dict[str, frozenset[str]]:
        """Every node upstream of each node (the nodes whose output it may read)."""
        # A walk per node rather than memoised recursion: validation asks this of
        # graphs that may still contain a cycle, and 2,000 nodes stay cheap.
        result: dict[str, frozenset[str]] = {}
        for n in self.nodes:
            seen: set[str] = set()
            stack = [e.source for e in self.incoming[n.id]]
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(e.source for e in self.incoming.get(current, ()))
            result[n.id] = frozenset(seen)
        return result

    def nodes_of_type(self, type_name: str) -> list[Node]:
        return [n for n in self.nodes if n.type == type_name]


def parse_graph(doc: Mapping[str, Any]) -> GraphSpec:
    """Build a spec from a document that already passed validation."""
    return GraphSpec(
        name=doc["name"],
        inputs=doc.get("inputs") or {"type": "object"},
        budget=Budget.from_dict(doc.get("budget")),
        nodes=tuple(
            Node(id=n["id"], type=n["type"], config=n.get("config") or {}, index=i)
            for i, n in enumerate(doc["nodes"])
        ),
        edges=tuple(Edge(source=e["from"], target=e["to"], port=e.get("port")) for e in doc.get("edges", [])),
        document=doc,
    )
