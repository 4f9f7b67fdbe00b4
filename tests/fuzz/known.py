"""Inputs known to answer 500 today, each in a file another helper of issue 9 owns.

Each entry names the bug, the owner and a predicate over the generated input;
the fuzz tests skip matching examples (``assume``) so they keep hunting for new
bugs, and test_known_bugs.py holds one exact example each, marked xfail(strict=False).
When the owner's fix lands, delete the entry: the fuzz suites then cover the class again.
"""
from __future__ import annotations

from typing import Any


def _walk(value: Any) -> Any:
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def unhashable_node_field(doc: Any) -> bool:
    """validation: a node whose ``id`` or ``type`` is a list or object → TypeError: unhashable type (500).

    ``type``: engine/validation.py _check_nodes, ``if node_type not in NODE_TYPES``;
    ``id``: engine/validation.py _check_edges, ``all_ids = {n.get("id") for n in nodes ...}``.
    """
    return any(isinstance(item, dict) and isinstance(item.get("nodes"), list)
               and any(isinstance(n, dict) and (isinstance(n.get("id"), list | dict)
                                                or isinstance(n.get("type"), list | dict)) for n in item["nodes"])
               for item in _walk(doc))


def unhashable_edge_port(doc: Any) -> bool:
    """validation: an edge whose ``port`` is a list or object → TypeError: unhashable type (500).

    engine/validation.py _check_edges, ``key = (source, target, port)``; ``if key in seen``.
    """
    return any(isinstance(item, dict) and isinstance(item.get("edges"), list)
               and any(isinstance(e, dict) and isinstance(e.get("port"), list | dict) for e in item["edges"])
               for item in _walk(doc))


def unicode_digits(text: Any) -> bool:
    """boundaries: ``str.isdigit()`` accepts ``²``, ``١``…, ``int()`` refuses them → ValueError (500)."""
    return isinstance(text, str) and any(c.isdigit() and not ("0" <= c <= "9") for c in text)


def _bad_selector(selector: str) -> bool:
    return selector.isdigit() and unicode_digits(selector)


def bad_reference(doc: Any) -> bool:
    """pins / boundaries: a saved-graph or prompt reference the lookup cannot take → 500.

    graphs/selectors.py: ``saved_graph`` (subgraph ``{"graph": "name@N"}``) and ``prompt_templates``
    (``prompt_ref: "name@N"``) query the database with the raw name and ``int(N)``:
    a NUL in the name → psycopg DataError (500); ``N`` = ``²`` → ValueError (500).
    """
    for item in _walk(doc):
        if not isinstance(item, dict):
            continue
        refs = []
        if isinstance(item.get("prompt_ref"), str):
            refs.append(item["prompt_ref"].partition("@")[::2])
        subgraph = item.get("subgraph")
        if isinstance(subgraph, dict) and isinstance(subgraph.get("graph"), str):
            refs.append(subgraph["graph"].rpartition("@")[::2])
        if any("\x00" in name or _bad_selector(selector) for name, selector in refs):
            return True
    return False


def graph_bug(body: Any) -> bool:
    return unhashable_node_field(body) or unhashable_edge_port(body) or bad_reference(body)
