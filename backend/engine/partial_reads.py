"""Warnings for joins: a template that reads a step some paths to it never run.

After a router or a gate, the step on one branch is skipped when another is taken;
a step after the branches meet still runs. If its template reads a branch step
plainly, the run fails on every other path. Validation warns (the graph still
saves and runs): add ``| default('')``, or test ``nodes.<id>.ran``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .nodes import NODE_TYPES
from .problems import WARNING, Problem
from .spec import Edge, GraphSpec, Node
from .templates import TemplateRefs


@dataclass(frozen=True)
class TemplateRead:
    """One template of a node, where it is, and what it reads."""

    node: Node
    path: str
    refs: TemplateRefs


def _branching(spec: GraphSpec, edge: Edge) -> bool:
    """Is this edge taken only on some runs (an exit of a router or a gate)?"""
    node = spec.by_id[edge.source]
    return len(NODE_TYPES[node.type].out_ports(node.config)) > 1


# A node that runs on every path (nothing decides whether it runs).
ALWAYS = ("", "")


def _run_conditions(spec: GraphSpec) -> dict[str, frozenset[tuple[str, str]]]:
    """Per node, the decisions under which it runs: a set of alternatives (router or gate, exit taken),
    any one of which runs it; {ALWAYS} when it runs on every path. A node runs when any incoming edge is
    taken (schedule.py), so its alternatives are the union over its incoming edges."""
    conditions: dict[str, frozenset[tuple[str, str]]] = {}
    for node_id in _topological(spec):
        incoming = spec.incoming[node_id]
        if not incoming:
            conditions[node_id] = frozenset({ALWAYS})
            continue
        alternatives: set[tuple[str, str]] = set()
        for edge in incoming:
            if _branching(spec, edge):
                source = spec.by_id[edge.source]
                alternatives.add((edge.source, edge.port or NODE_TYPES[source.type].out_ports(source.config)[0]))
            else:
                alternatives |= conditions.get(edge.source, frozenset({ALWAYS}))
        conditions[node_id] = frozenset({ALWAYS}) if ALWAYS in alternatives else frozenset(alternatives)
    return conditions


def _topological(spec: GraphSpec) -> list[str]:
    pending = {n.id: len(spec.incoming[n.id]) for n in spec.nodes}
    order = [n for n, count in pending.items() if count == 0]
    for node_id in order:  # grows as it goes
        for edge in spec.outgoing[node_id]:
            pending[edge.target] -= 1
            if pending[edge.target] == 0:
                order.append(edge.target)
    return order


def _in_words(spec: GraphSpec, alternatives: frozenset[tuple[str, str]]) -> str:
    return " or ".join(f"{spec.by_id[source].type} '{source}' takes '{port}'" for source, port in sorted(alternatives))


def partial_read_warnings(spec: GraphSpec, reads: Iterable[TemplateRead]) -> list[Problem]:
    """A warning per template that plainly reads a step which some paths to its node skip."""
    reads = list(reads)
    if not any(r.refs.unguarded_node_ids for r in reads):
        return []
    conditions = _run_conditions(spec)
    problems = []
    for read in reads:
        for step in sorted(read.refs.unguarded_node_ids):
            if step not in spec.ancestors[read.node.id] or step not in conditions:
                continue
            runs_when = conditions[step]
            # Fine when the step runs on every path, or whenever the reader does (same decisions).
            if ALWAYS in runs_when or conditions.get(read.node.id, frozenset()) <= runs_when:
                continue
            problems.append(Problem(read.path, (
                f"reads '{step}', which runs only when {_in_words(spec, runs_when)}; on other paths "
                f"'{read.node.id}' still runs and this "
                f"fails: write {{{{ nodes.{step}.output | default('') }}}} or test nodes.{step}.ran"),
                read.node.id, WARNING))
    return problems
