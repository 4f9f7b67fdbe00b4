"""The scheduler's decisions, as small functions with no I/O (like langgraph's ``pregel/_algo.py``).

Which nodes may start, what a finished or skipped node unblocks or skips, and
when a run is done. ``runner.py`` does the asyncio, spans and events around
them; these decide and return. A node's out-edges are *taken* or *not taken*
(a gate that fails, a router's other labels); a node whose incoming edges are
all resolved becomes ready if at least one was taken, and is skipped otherwise.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from .spec import Edge, GraphSpec, Node

SKIPPED_NO_PATH = "no incoming path was taken"
SKIPPED_RUN_STOPPED = "the run stopped before this node"


@dataclass
class Frontier:
    """Where a run stands: per node, its in-edges not yet resolved, and how many of them were taken."""

    pending_in: dict[str, int]
    taken_in: dict[str, int]


@dataclass
class Unblocked:
    """What resolving some edges decided, in the order it was decided."""

    ready: list[str] = field(default_factory=list)  # start these
    skipped: list[str] = field(default_factory=list)  # mark these skipped (no incoming path was taken)


def default_ports(spec: GraphSpec, out_ports: Callable[[Node], Sequence[str]]) -> dict[str, str | None]:
    """Each node's default out-port (its first one; None for a node without ports): an edge with no port uses it."""
    result: dict[str, str | None] = {}
    for node in spec.nodes:
        ports = out_ports(node)
        result[node.id] = ports[0] if ports else None
    return result


def start(spec: GraphSpec) -> tuple[Frontier, list[str]]:
    """The frontier before anything ran, and the nodes ready at once (those with no in-edges)."""
    pending = {n.id: len(spec.incoming[n.id]) for n in spec.nodes}
    frontier = Frontier(pending_in=pending, taken_in={n.id: 0 for n in spec.nodes})
    return frontier, [n.id for n in spec.nodes if pending[n.id] == 0]


def edge_port(edge: Edge, defaults: Mapping[str, str | None]) -> str | None:
    return edge.port or defaults[edge.source]


def after_finished(spec: GraphSpec, frontier: Frontier, node_id: str, fired: str | None,
                   defaults: Mapping[str, str | None]) -> Unblocked:
    """A node finished and fired port ``fired`` (None: its default port): resolve its out-edges."""
    port = fired or defaults[node_id]
    return _resolve(spec, frontier, ((e, edge_port(e, defaults) == port) for e in spec.outgoing[node_id]))


def after_skipped(spec: GraphSpec, frontier: Frontier, node_id: str) -> Unblocked:
    """A node was skipped: none of its out-edges is taken."""
    return _resolve(spec, frontier, ((e, False) for e in spec.outgoing[node_id]))


def _resolve(spec: GraphSpec, frontier: Frontier, edges: Iterable[tuple[Edge, bool]]) -> Unblocked:
    # Depth first, with an explicit stack: a skip cascades down a chain as long as the graph.
    decided = Unblocked()
    stack: list[Iterator[tuple[Edge, bool]]] = [iter(edges)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        edge, taken = item
        target = edge.target
        frontier.pending_in[target] -= 1
        if taken:
            frontier.taken_in[target] += 1
        if frontier.pending_in[target] > 0:
            continue
        if frontier.taken_in[target] > 0:
            decided.ready.append(target)
            continue
        decided.skipped.append(target)
        stack.append((e, False) for e in spec.outgoing[target])
    return decided


def is_done(ready: Collection[str], running: int) -> bool:
    """A run is done when nothing is ready and nothing runs: every node finished or was skipped."""
    return not ready and running == 0


def never_started(spec: GraphSpec, started: Collection[str], finished: Collection[str]) -> list[str]:
    """When a run stops early: the nodes that never ran, in document order (each is marked skipped)."""
    return [n.id for n in spec.nodes if n.id not in started and n.id not in finished]
