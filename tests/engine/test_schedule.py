"""The scheduler's decisions on their own: no asyncio, no model, no services."""
from __future__ import annotations

from typing import Any

from backend.engine import schedule
from backend.engine.spec import Budget, Edge, GraphSpec, Node

ROUTER_PORTS = {"r": ["billing", "tech", "default"]}


def graph(edges: list[tuple[str, str] | tuple[str, str, str]], nodes: list[str] | None = None) -> GraphSpec:
    ids = nodes or list(dict.fromkeys(n for e in edges for n in e[:2]))
    return GraphSpec(name="g", inputs={}, budget=Budget(), nodes=tuple(Node(i, "x", {}, k) for k, i in enumerate(ids)),
                     edges=tuple(Edge(e[0], e[1], e[2] if len(e) > 2 else None) for e in edges))  # type: ignore[misc]


def defaults(spec: GraphSpec) -> dict[str, Any]:
    return schedule.default_ports(spec, lambda n: ROUTER_PORTS.get(n.id, ["out"]))


def test_nodes_without_inputs_are_ready_at_once() -> None:
    spec = graph([("a", "c"), ("b", "c")])
    frontier, ready = schedule.start(spec)
    assert ready == ["a", "b"]
    assert frontier.pending_in == {"a": 0, "b": 0, "c": 2}


def test_a_join_waits_for_every_input() -> None:
    spec = graph([("a", "c"), ("b", "c")])
    frontier, _ = schedule.start(spec)
    assert schedule.after_finished(spec, frontier, "a", None, defaults(spec)).ready == []
    assert schedule.after_finished(spec, frontier, "b", None, defaults(spec)).ready == ["c"]


def test_a_router_takes_one_label_and_skips_the_rest_downstream() -> None:
    spec = graph([("r", "bill", "billing"), ("r", "tech", "tech"), ("r", "fallback", "default"),
                  ("bill", "out"), ("tech", "out"), ("fallback", "out"), ("tech", "log")])
    frontier, ready = schedule.start(spec)
    assert ready == ["r"]
    decided = schedule.after_finished(spec, frontier, "r", "tech", defaults(spec))
    # Skips cascade depth first, in edge order: what a trace shows.
    assert decided.ready == ["tech"]
    assert decided.skipped == ["bill", "fallback"]
    decided = schedule.after_finished(spec, frontier, "tech", None, defaults(spec))
    assert decided.ready == ["out", "log"]  # one taken path is enough for a join


def test_an_edge_without_a_port_uses_the_default_port() -> None:
    spec = graph([("r", "a"), ("r", "b", "tech")])
    frontier, _ = schedule.start(spec)
    decided = schedule.after_finished(spec, frontier, "r", None, defaults(spec))  # fired: billing (the first)
    assert decided.ready == ["a"]
    assert decided.skipped == ["b"]


def test_a_skipped_node_skips_a_chain_as_long_as_the_graph_without_recursion() -> None:
    n = 5000  # deeper than Python's recursion limit
    spec = graph([(f"n{i}", f"n{i + 1}") for i in range(n)])
    frontier, ready = schedule.start(spec)
    decided = schedule.after_skipped(spec, frontier, "n0")
    assert decided.ready == []
    assert decided.skipped == [f"n{i}" for i in range(1, n + 1)]


def test_a_node_with_one_taken_and_one_skipped_input_runs() -> None:
    spec = graph([("r", "a", "billing"), ("r", "b", "tech"), ("a", "join"), ("b", "join")])
    frontier, _ = schedule.start(spec)
    decided = schedule.after_finished(spec, frontier, "r", "billing", defaults(spec))
    assert (decided.ready, decided.skipped) == (["a"], ["b"])
    assert schedule.after_finished(spec, frontier, "a", None, defaults(spec)).ready == ["join"]


def test_done_when_nothing_is_ready_or_running() -> None:
    assert schedule.is_done([], 0)
    assert not schedule.is_done(["a"], 0)
    assert not schedule.is_done([], 1)


def test_a_stopped_run_lists_the_nodes_that_never_started_in_document_order() -> None:
    spec = graph([("a", "b"), ("b", "c"), ("a", "d")])
    assert schedule.never_started(spec, started={"a", "b"}, finished={"a"}) == ["c", "d"]


def test_a_node_without_out_ports_has_no_default_port() -> None:
    spec = graph([("a", "b")])
    assert schedule.default_ports(spec, lambda n: [] if n.id == "b" else ["out"]) == {"a": "out", "b": None}
