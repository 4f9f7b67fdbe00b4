"""Total validation of a graph document: every problem at once, each with its path.

The API answers an invalid graph with this list (400, nothing saved); the CLI
prints it; the canvas pins each problem to its node and field.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .graph_refs import graph_key
from .limits import MAX_NODE_ID, MAX_SUBGRAPH_DEPTH
from .nodes import NODE_TYPES
from .partial_reads import TemplateRead, partial_read_warnings
from .problems import Problem, depth_problem, join_path
from .schemas import SchemaUnusable, ValidationError, schema_errors
from .schemas import schema_problems as json_schema_problems
from .spec import SCHEMA_ID, Budget, Edge, GraphSpec, Node
from .step_views import STEP_FIELDS
from .templates import BASE_ROOTS, analyse
from .types import ValidationContext

# Used with fullmatch, not "$": "$" also matches before a trailing newline, which is no part of an id.
NODE_ID = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_NODE_ID - 1}}}")
NODE_KEYS = {"id", "type", "config", "position", "label"}
EDGE_KEYS = {"from", "to", "port"}
TOP_KEYS = {"schema", "name", "description", "inputs", "budget", "nodes", "edges"}
MAX_NODES = 2000
MAX_NAME = 200
MAX_DESCRIPTION = 5000
MAX_LABEL = 200
MAX_EDGES = 10000
BUDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "max_cost_usd": {"type": "number", "exclusiveMinimum": 0},
        "max_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        "max_llm_calls": {"type": "integer", "minimum": 1, "maximum": 100000},
    },
    "additionalProperties": False,
}


def validate_graph(doc: Any, ctx: ValidationContext | None = None, *, depth: int = 0,
                   warnings: bool = False) -> list[Problem]:
    """``depth``: how many subgraph levels this document sits below the graph being validated.

    ``warnings``: also report what saves and runs but deserves a look (severity "warning", see
    partial_reads.py); hosts that block on problems filter them out with ``blocking``."""
    ctx = ctx or ValidationContext()
    if not isinstance(doc, dict):
        return [Problem("", "a graph must be a JSON object")]
    too_deep = depth_problem(doc, "")
    if too_deep is not None:  # checked first: the checks below walk the document recursively
        return [too_deep]
    problems: list[Problem] = []
    problems += _check_top_level(doc)
    nodes = doc.get("nodes")
    edges = doc.get("edges", [])
    if not isinstance(nodes, list) or not nodes:
        problems.append(Problem("nodes", "a graph needs a list of nodes (at least an input and an output)"))
        return problems
    if not isinstance(edges, list):
        problems.append(Problem("edges", "must be a list of edges"))
        return problems
    if len(nodes) > MAX_NODES:
        return problems + [Problem("nodes", f"at most {MAX_NODES} nodes")]
    if len(edges) > MAX_EDGES:
        return problems + [Problem("edges", f"at most {MAX_EDGES} edges")]

    node_problems, good_nodes = _check_nodes(nodes)
    problems += node_problems
    edge_problems, good_edges = _check_edges(edges, nodes, good_nodes)
    problems += edge_problems
    cycle_problems = _check_cycles(edges, good_edges)
    problems += cycle_problems
    # The nodes and edges that are sound on their own get the deeper checks even
    # when others are broken, so the user sees every problem in one pass.
    spec = GraphSpec(
        name=str(doc.get("name")),
        inputs=doc.get("inputs") or {},
        budget=Budget(),
        nodes=tuple(Node(id=n["id"], type=n["type"], config=n.get("config") or {}, index=i)
                    for i, n in enumerate(nodes)
                    if isinstance(n, dict) and isinstance(n.get("id"), str) and good_nodes.get(n["id"]) is n),
        edges=tuple(Edge(source=edges[i]["from"], target=edges[i]["to"], port=edges[i].get("port"))
                    for i in sorted(good_edges) if edges[i]["from"] in good_nodes and edges[i]["to"] in good_nodes),
    )
    problems += check_subgraphs(doc, spec, ctx, depth)
    all_ids = {n["id"] for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}
    reads: list[TemplateRead] = []
    for node in spec.nodes:
        node_type = NODE_TYPES[node.type]
        problems += node_type.check(node, spec, ctx)
        problems += _check_templates(node, spec, ctx, node_type.templates(node.config, ctx),
                                     node_type.extra_template_roots, doc.get("inputs"), all_ids, reads)
    if warnings:
        problems += partial_read_warnings(spec, reads)
    return problems


def _check_top_level(doc: Mapping[str, Any]) -> Iterable[Problem]:
    if doc.get("schema") != SCHEMA_ID:
        yield Problem("schema", f"must be \"{SCHEMA_ID}\"")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        yield Problem("name", "a graph needs a name")
    elif len(name) > MAX_NAME:
        yield Problem("name", f"at most {MAX_NAME} characters")
    problem = text_problem(doc.get("description"), MAX_DESCRIPTION)
    if problem:
        yield Problem("description", problem)
    for key in sorted(set(doc) - TOP_KEYS):
        yield Problem(key, "unknown field")
    inputs = doc.get("inputs")
    if inputs is not None:
        if not isinstance(inputs, dict):
            yield Problem("inputs", "must be a JSON schema object")
        else:
            yield from json_schema_problems(inputs, "inputs")
    budget = doc.get("budget")
    if budget is not None:
        yield from schema_problems(budget, BUDGET_SCHEMA, "budget")


def text_problem(value: Any, limit: int) -> str | None:
    """Why an optional free-text field (a description, a label) cannot be stored as is, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return "must be text"
    if len(value) > limit:
        return f"at most {limit} characters"
    return None


def schema_problems(value: Any, schema: Mapping[str, Any], base: str, node_id: str | None = None
                     ) -> Iterable[Problem]:
    """``value`` held to one of the engine's own schemas (node configs, budgets), each problem with its path."""
    for error in schema_errors(schema, value):
        yield Problem(join_path(base, *error.absolute_path), _plain(error), node_id)


def _plain(error: ValidationError) -> str:
    """jsonschema's messages, reworded where they would puzzle a non-engineer."""
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field{'s' if len(extra) > 1 else ''}: {', '.join(extra)}"
    if error.validator == "required":
        return error.message.replace(" is a required property", " is required")
    if error.validator == "enum":
        return f"must be one of: {', '.join(map(str, error.validator_value))}"
    return error.message


def _check_nodes(nodes: list[Any]) -> tuple[list[Problem], dict[str, dict]]:
    problems: list[Problem] = []
    good: dict[str, dict] = {}
    seen: set[str] = set()
    counts = {"input": 0, "output": 0}
    for i, node in enumerate(nodes):
        base = f"nodes[{i}]"
        if not isinstance(node, dict):
            problems.append(Problem(base, "a node must be an object with an id and a type"))
            continue
        node_id = node.get("id")
        ok = True
        if not isinstance(node_id, str) or not NODE_ID.fullmatch(node_id):
            problems.append(Problem(f"{base}.id", "an id is letters, digits and _ (not starting with a digit), "
                                                  f"at most {MAX_NODE_ID} characters"))
            ok, node_id = False, None
        elif node_id in seen:
            problems.append(Problem(f"{base}.id", f"another node already has the id '{node_id}'", node_id))
            ok = False
        else:
            seen.add(node_id)
        for key in sorted(set(node) - NODE_KEYS):
            problems.append(Problem(f"{base}.{key}", "unknown field", node_id))
        node_type = node.get("type")
        if not isinstance(node_type, str) or node_type not in NODE_TYPES:
            known = ", ".join(sorted(NODE_TYPES))
            problems.append(Problem(f"{base}.type", f"unknown node type '{node_type}' (known: {known})", node_id))
            ok = False
        else:
            counts[node_type] = counts.get(node_type, 0) + 1
            config = node.get("config", {})
            if not isinstance(config, dict):
                problems.append(Problem(f"{base}.config", "must be an object", node_id))
                ok = False
            else:
                config_problems = list(schema_problems(config, NODE_TYPES[node_type].config_schema,
                                                        f"{base}.config", node_id))
                problems += config_problems
                ok = ok and not config_problems
        label_problem = text_problem(node.get("label"), MAX_LABEL)
        if label_problem:
            problems.append(Problem(f"{base}.label", label_problem, node_id))
        position = node.get("position")
        if position is not None and not (
            isinstance(position, list) and len(position) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
        ):
            problems.append(Problem(f"{base}.position", "must be [x, y]", node_id))
        if ok and node_id:
            good[node_id] = node
    if counts["input"] > 1:
        problems.append(Problem("nodes", "a graph has at most one input node"))
    if counts["output"] != 1:
        problems.append(Problem("nodes", "a graph needs exactly one output node"))
    return problems, good


def _check_edges(edges: list[Any], nodes: list[Any], good: Mapping[str, dict]) -> tuple[list[Problem], set[int]]:
    problems: list[Problem] = []
    good_edges: set[int] = set()
    all_ids = {n["id"] for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}
    seen: set[tuple] = set()
    for i, edge in enumerate(edges):
        base = f"edges[{i}]"
        if not isinstance(edge, dict):
            problems.append(Problem(base, "an edge must be an object with from and to"))
            continue
        ok = True
        for key in sorted(set(edge) - EDGE_KEYS):
            problems.append(Problem(f"{base}.{key}", "unknown field"))
            ok = False
        for end in ("from", "to"):
            ref = edge.get(end)
            if not isinstance(ref, str):
                problems.append(Problem(f"{base}.{end}", "must name a node id"))
                ok = False
            elif ref not in all_ids:
                problems.append(Problem(f"{base}.{end}", f"points at node '{ref}', which does not exist"))
                ok = False
        if not ok:
            continue
        source, target, port = edge["from"], edge["to"], edge.get("port")
        if port is not None and not isinstance(port, str):
            problems.append(Problem(f"{base}.port", "must be the name of one of the source's exits (text)", source))
            continue
        if source == target:
            problems.append(Problem(base, f"node '{source}' cannot feed itself", source))
            continue
        if source in good:
            source_type = NODE_TYPES[good[source]["type"]]
            ports = source_type.out_ports(good[source].get("config", {}))
            if not ports:
                problems.append(Problem(base, f"'{source}' is an {good[source]['type']} node: nothing can follow it",
                                        source))
                ok = False
            elif port is not None and port not in ports:
                problems.append(Problem(f"{base}.port", f"'{source}' has no port '{port}' "
                                                        f"(ports: {', '.join(ports)})", source))
                ok = False
        if target in good and good[target]["type"] == "input":
            problems.append(Problem(base, f"'{target}' is the input node: nothing can feed it", target))
            ok = False
        key = (source, target, port)
        if key in seen:
            problems.append(Problem(base, f"duplicate edge {source} → {target}"))
            ok = False
        seen.add(key)
        if ok:
            good_edges.add(i)
    return problems, good_edges


def _check_cycles(edges: list[Any], good_edges: set[int]) -> list[Problem]:
    """Graphs are DAGs: report each edge that closes a loop, with the loop spelled out.

    Depth-first with an explicit stack: a 2,000-node chain is 2,000 levels deep.
    """
    graph: dict[str, list[tuple[str, int]]] = {}
    for i in sorted(good_edges):
        graph.setdefault(edges[i]["from"], []).append((edges[i]["to"], i))
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []
    on_path: dict[str, int] = {}  # node → its index in path
    for start in list(graph):
        if start in state:
            continue
        state[start], on_path[start] = 1, 0
        path.append(start)
        stack = [iter(graph.get(start, ()))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                node = path.pop()
                del on_path[node]
                state[node] = 2
                stack.pop()
                continue
            target, index = step
            if state.get(target) == 1:
                loop = path[on_path[target]:] + [target]
                problems.append(Problem(f"edges[{index}]", "this edge closes a loop: " + " → ".join(loop)
                                        + " (graphs must not loop; use evaluator_optimizer for bounded loops)"))
            elif target not in state:
                state[target], on_path[target] = 1, len(path)
                path.append(target)
                stack.append(iter(graph.get(target, ())))
    return problems


def _check_templates(node: Node, spec: GraphSpec, ctx: ValidationContext, templates: Iterable[tuple[tuple, str]],
                     extra_roots: frozenset[str], inputs_schema: Any, all_ids: set[Any],
                     reads: list[TemplateRead]) -> Iterable[Problem]:
    """The templates' problems; each template that parses is added to ``reads`` for the warnings."""
    allowed_roots = BASE_ROOTS | extra_roots
    upstream = spec.ancestors[node.id]
    input_props = None
    if isinstance(inputs_schema, dict) and isinstance(inputs_schema.get("properties"), dict):
        input_props = set(inputs_schema["properties"])
    for item in templates:
        # (path, source) or (path, source, extra names that template may use)
        sub_path, source = item[0], item[1]
        roots = allowed_roots | (item[2] if len(item) > 2 else frozenset())
        path = join_path(f"nodes[{node.index}].config", *sub_path)
        refs = analyse(source)
        if refs.syntax_error:
            yield Problem(path, f"template syntax error, {refs.syntax_error}", node.id)
            continue
        reads.append(TemplateRead(node, path, refs))
        for attr in sorted(refs.private_attributes):
            yield Problem(path, f"'{attr}' is not allowed in a template (names starting with _ are refused "
                                "by the sandbox)", node.id)
        for root in sorted(refs.roots - roots):
            yield Problem(path, f"unknown variable '{root}' (use input.<field> or nodes.<id>.output)", node.id)
        for ref in sorted(refs.node_ids):
            if ref not in all_ids:
                yield Problem(path, f"reads node '{ref}', which does not exist", node.id)
            elif ref not in spec.by_id:
                continue  # that node has problems of its own, reported above
            elif ref not in upstream:
                yield Problem(path, f"reads node '{ref}', which is not upstream of '{node.id}': "
                                    f"connect {ref} to {node.id} first", node.id)
        for ref, field_name in sorted(refs.node_fields):
            if field_name not in STEP_FIELDS and ref in spec.by_id:
                yield Problem(path, f"nodes.{ref}.{field_name} does not exist: use nodes.{ref}.output "
                                    f"(or nodes.{ref}.ran, true when it ran on this path)", node.id)
        if input_props is not None:
            for name in sorted(refs.input_fields - input_props):
                yield Problem(path, f"input has no field '{name}' (the input schema has: "
                                    f"{', '.join(sorted(input_props)) or 'none'})", node.id)


def check_input(schema: Mapping[str, Any], value: Any) -> list[Problem]:
    """A run input checked against the graph's input schema, each problem at ``input.<path>``."""
    too_deep = depth_problem(value, "input")
    if too_deep is not None:  # the schema check (and storing the input) would recurse past Python's limit
        return [too_deep]
    try:
        errors = schema_errors(schema, value)
    except SchemaUnusable as exc:  # a graph saved before refs were checked at save time
        return [Problem("input", f"the graph's input schema cannot be used: {exc}; fix the graph's inputs")]
    return sorted((Problem(join_path("input", *e.absolute_path), _plain(e)) for e in errors), key=lambda p: p.path)


def subgraph_sites(value: Any) -> list[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """Every ``{"subgraph": {...}}`` reference in a config (a step or a subgraph node), with its path."""
    found: list[tuple[tuple[str | int, ...], Mapping[str, Any]]] = []
    # An explicit stack (children pushed in reverse, so the order is the document's): hosts call this on
    # documents not yet validated, which may nest as deep as the JSON reader allows.
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        v, path = stack.pop()
        if isinstance(v, dict):
            if isinstance(v.get("subgraph"), dict):
                found.append(((*path, "subgraph"), v["subgraph"]))
            # An inline spec ("subgraph") is validated as a graph of its own.
            stack.extend(((x, (*path, k)) for k, x in reversed(v.items()) if k != "subgraph"))
        elif isinstance(v, list):
            stack.extend(((x, (*path, i)) for i, x in reversed(list(enumerate(v)))))
    return found


def graph_refs(value: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Every saved-graph reference ("name@3") in a config, with its path."""
    return [((*path, "graph"), sub["graph"]) for path, sub in subgraph_sites(value) if isinstance(sub.get("graph"), str)]


def inline_specs(value: Any) -> list[tuple[tuple[str | int, ...], Any]]:
    """Every inline subgraph spec in a config, with its path."""
    return [((*path, "spec"), sub["spec"]) for path, sub in subgraph_sites(value) if "spec" in sub]


def saved_graph_refs(doc: Any) -> set[str]:
    """Every saved graph a document names, inline subgraphs included: what a host must load to run it."""
    refs: set[str] = set()
    pending = [doc]  # inline subgraphs, level by level: no recursion
    while pending:
        current = pending.pop()
        nodes = current.get("nodes") if isinstance(current, dict) else None
        for node in nodes if isinstance(nodes, list) else []:  # an unchecked document: "nodes" may be anything
            config = node.get("config") if isinstance(node, dict) else None
            refs |= {ref for _, ref in graph_refs(config)}
            pending.extend(inline for _, inline in inline_specs(config))
    return refs


def check_subgraphs(doc: Mapping[str, Any], spec: GraphSpec, ctx: ValidationContext, depth: int = 0) -> list[Problem]:
    """Inline subgraphs are validated in place; saved ones must exist and must not lead back here."""
    problems: list[Problem] = []
    own_name = doc.get("name")
    own_key = ctx.graph_key or own_name
    for node in spec.nodes:
        base = f"nodes[{node.index}].config"
        for path, inline in inline_specs(node.config):
            where = join_path(base, *path)
            if depth + 1 > MAX_SUBGRAPH_DEPTH:  # the engine would refuse to run it
                problems.append(Problem(where, f"subgraphs nest at most {MAX_SUBGRAPH_DEPTH} levels deep", node.id))
                continue
            for p in validate_graph(inline, ctx, depth=depth + 1):
                problems.append(Problem(join_path(where, p.path) if p.path else where, p.message, node.id))
            if isinstance(inline, dict) and inline.get("name") == own_name:
                problems.append(Problem(where, f"a subgraph cannot be the graph '{own_name}' itself", node.id))
        for path, ref in graph_refs(node.config):
            where = join_path(base, *path)
            if graph_key(ref) == own_key:
                problems.append(Problem(where, f"'{ref}' is this graph: a graph cannot call itself", node.id))
                continue
            if ctx.subgraphs is None:
                continue
            if ref not in ctx.subgraphs:
                problems.append(Problem(where, f"no saved graph matches '{ref}' (name@version)", node.id))
                continue
            loop = _reaches(ref, own_key, ctx.subgraphs)
            if loop:
                problems.append(Problem(where, "this subgraph leads back to this graph: " + " → ".join(loop)
                                        + " (recursion is not allowed)", node.id))
    return problems


def _reaches(start: str, target: Any, graphs: Mapping[str, Mapping[str, Any]]) -> list[str] | None:
    """The chain of references from ``start`` back to the graph ``target`` (a graph_key), if there is one.

    Follows every reference a saved graph holds, those inside its inline subgraphs included."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        ref, chain = stack.pop()
        if ref in seen:
            continue
        seen.add(ref)
        for inner in sorted(saved_graph_refs(graphs.get(ref) or {})):
            if graph_key(inner) == target:
                return [*chain, inner]
            stack.append((inner, [*chain, inner]))
    return None
