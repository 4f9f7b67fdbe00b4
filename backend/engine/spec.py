"""The graph spec (patchbay.graph/v1) as immutable, typed objects.

A spec is only built from a document that passed ``validate_graph``; code that
holds a ``GraphSpec`` can rely on ids being unique, edges pointing at real
nodes and the graph being acyclic.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    def ancestors(self) -> dict[str, NodeSet]:
        """Every node upstream of each node (the nodes whose output it may read).

        Validation asks this of graphs that may still contain a cycle, up to 2,000
        nodes: a walk per node would be quadratic in time and memory. Instead the
        strongly connected components are found once (iteratively: a chain is as
        deep as it is long), and each component's ancestors are the union of its
        predecessors', as bit sets, in topological order.
        """
        ids = [n.id for n in self.nodes]
        index = {node_id: i for i, node_id in enumerate(ids)}
        preds = [[index[e.source] for e in self.incoming[node_id]] for node_id in ids]
        succs = [[index[e.target] for e in self.outgoing[node_id]] for node_id in ids]
        components = _components(succs)  # Tarjan's order: every component after those it feeds
        bits = [0] * len(ids)
        for component in reversed(components):  # upstream first
            members = 0
            for i in component:
                members |= 1 << i
            cyclic = len(component) > 1 or component[0] in succs[component[0]]
            upstream = members if cyclic else 0
            for i in component:
                for p in preds[i]:
                    if not members >> p & 1:
                        upstream |= bits[p] | 1 << p
            for i in component:
                bits[i] = upstream
        return {node_id: NodeSet(bits[i], index) for i, node_id in enumerate(ids)}


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


class NodeSet:
    """A set of a graph's node ids, held as a bit set over their positions."""

    __slots__ = ("_bits", "_index")

    def __init__(self, bits: int, index: Mapping[str, int]):
        self._bits, self._index = bits, index

    def __contains__(self, node_id: object) -> bool:
        i = self._index.get(node_id) if isinstance(node_id, str) else None
        return i is not None and bool(self._bits >> i & 1)

    def __iter__(self) -> Iterator[str]:
        return (node_id for node_id, i in self._index.items() if self._bits >> i & 1)

    def __len__(self) -> int:
        return self._bits.bit_count()


def _components(succs: list[list[int]]) -> list[list[int]]:
    """Strongly connected components (Tarjan), without recursion; each after every component it leads to."""
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    result: list[list[int]] = []
    for root in range(len(succs)):
        if root in order:
            continue
        work = [(root, iter(succs[root]))]
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in order:
                    order[child] = low[child] = len(order)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succs[child])))
                elif child in on_stack:
                    low[node] = min(low[node], order[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(component)
    return result
