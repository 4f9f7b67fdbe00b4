"""What the metrics need to know from a graph's spec: its pattern steps and their caps, what lies after a gate,
and the longest chain of model steps. Reads the plain spec document (the same JSON everywhere)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import cache
from typing import Any

from backend.engine.nodes import NODE_TYPES

PATTERN_TYPES = ("router", "vote", "evaluator_optimizer", "orchestrator", "gate")
# Steps that call a model every time they run (a rules router does not; a subgraph may, so it counts).
MODEL_STEP_TYPES = frozenset({"llm", "vote", "evaluator_optimizer", "orchestrator", "subgraph"})


@cache
def _default(node_type: str, key: str) -> Any:
    return NODE_TYPES[node_type].config_schema["properties"][key].get("default")


def setting(node: Mapping[str, Any], key: str) -> Any:
    """A node's config value, or the node type's default for it."""
    config = node.get("config") or {}
    return config[key] if key in config else _default(node["type"], key)


def pattern_nodes(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [n for n in spec.get("nodes", []) if n.get("type") in PATTERN_TYPES]


def router_routes(node: Mapping[str, Any]) -> list[str]:
    return [r["label"] for r in (node.get("config") or {}).get("routes", []) if "label" in r]


def _successors(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    following: dict[str, list[str]] = defaultdict(list)
    for edge in spec.get("edges", []):
        following[edge["from"]].append(edge["to"])
    return following


def downstream_of(spec: Mapping[str, Any], node_id: str) -> set[str]:
    """Every step reachable from the node (not the node itself)."""
    following, seen, todo = _successors(spec), set(), [node_id]
    while todo:
        for nxt in following[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def is_model_step(node: Mapping[str, Any]) -> bool:
    if node.get("type") == "router":
        return setting(node, "mode") == "llm"
    return node.get("type") in MODEL_STEP_TYPES


def longest_model_chain(spec: Mapping[str, Any]) -> list[str]:
    """The path through the graph with the most model steps one after another (graphs are DAGs)."""
    nodes = {n["id"]: n for n in spec.get("nodes", [])}
    following = _successors(spec)
    best: dict[str, list[str]] = {}

    def chain_from(node_id: str) -> list[str]:
        if node_id not in best:
            best[node_id] = []  # a cycle (invalid graph) ends here rather than recursing forever
            tails = [chain_from(n) for n in following[node_id] if n in nodes]
            tail = max(tails, key=len, default=[])
            best[node_id] = ([node_id] if is_model_step(nodes[node_id]) else []) + tail
        return best[node_id]

    return max((chain_from(n) for n in nodes), key=len, default=[])


def steps_on_routes(spec: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Model step (llm) id → (router id, route) for every llm step that only one route of one router leads to.

    A step after the routes join again (the output, a shared summary) belongs to no route: changing its model
    changes every route's answers."""
    nodes = {n["id"]: n for n in spec.get("nodes", [])}
    found: dict[str, tuple[str, str]] = {}
    for router in (n for n in nodes.values() if n.get("type") == "router"):
        reach: dict[str, set[str]] = defaultdict(set)
        for edge in spec.get("edges", []):
            if edge.get("from") == router["id"] and edge.get("port"):
                reach[edge["port"]] |= {edge["to"]} | downstream_of(spec, edge["to"])
        for route, reached in reach.items():
            elsewhere = set().union(*(r for other, r in reach.items() if other != route))
            for step in reached - elsewhere:
                if nodes.get(step, {}).get("type") == "llm":
                    found[step] = (router["id"], route)
    return found
