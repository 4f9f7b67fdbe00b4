"""Strategies for hostile and careless input: JSON values, mutations of good documents, schema-shaped data.

Schema-shaped data comes from schemathesis's JSON Schema generator (installed and
pinned for the OpenAPI suite). hypothesis-jsonschema was the first choice, but its
latest release (0.23.1) calls a Hypothesis internal (``cu.many(...).more()``) that
Hypothesis 6.170 no longer has, so it fails on every object schema.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st
from schemathesis.generation.jsonschema.builder import build

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_GRAPHS: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text()) for path in sorted((ROOT / "graphs").glob("*.json"))}

# Text a careless or hostile client sends where a number or a name is expected.
TRICKY_TEXT = [
    "", " ", "0", "-1", "1.5", "1e309", "NaN", "Infinity", "-Infinity", "9" * 30, "9" * 400, " 7", "7 ", "7\n",
    "0x10", "1_000", "+3", "²", "١٢", "٣", "߂", "𝟗", "Ⅻ", "①", "\x00", "a\x00b", "null", "true", "[]", "{}",
    "%00", "../", "é" * 50, "\ud7ff", "🙂", "\u202e", "<script>", "'; drop table x;--",
]
HUGE_NUMBERS = [2**31, 2**63, -(2**63) - 1, 10**20, 10**400, -(10**400), 1e308, -1e308, 5e-324, 0.1 + 0.2]


def tricky_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRICKY_TEXT), st.text(max_size=40))


def numbers() -> st.SearchStrategy[int | float]:
    return st.one_of(st.integers(), st.sampled_from(HUGE_NUMBERS), st.floats(allow_nan=False, allow_infinity=False))


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), numbers(), tricky_text())


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value json.dumps can write (finite numbers; NaN and friends go in raw bodies)."""
    return st.recursive(scalars(), lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(tricky_text(), inner, max_size=4)), max_leaves=max_leaves)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += _paths(value, (*prefix, index))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw: st.DrawFn, doc: Any, max_mutations: int = 4) -> Any:
    """``doc`` with 1..max_mutations edits at random places: replace, delete, add a key, wrap, duplicate."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_mutations))):
        path = draw(st.sampled_from(_paths(doc)))
        op = draw(st.sampled_from(["replace", "delete", "add", "wrap", "duplicate", "retype"]))
        if not path:  # the root itself
            if op in ("replace", "retype"):
                doc = draw(json_values())
            elif op == "wrap":
                doc = [doc]
            continue
        parent, last = _parent(doc, path), path[-1]
        if op == "replace":
            parent[last] = draw(json_values())
        elif op == "retype":
            parent[last] = draw(scalars())
        elif op == "delete":
            del parent[last]
        elif op == "wrap":
            parent[last] = draw(st.sampled_from([[parent[last]], {"value": parent[last]}]))
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif op == "add" and isinstance(parent[last], dict):
            parent[last][draw(tricky_text())] = draw(json_values())
        elif op == "add" and isinstance(parent[last], list):
            parent[last].append(draw(json_values()))
    return doc


def schema_values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the JSON Schema (draft 2020-12) admits."""
    return build(schema, draft=jsonschema_rs.Draft202012, formats={})


def shaped_then_mutated(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly valid-shaped values, some mutated, some anything at all."""
    valid = schema_values(schema)
    return st.one_of(valid, valid.flatmap(mutated), json_values())


# Raw bodies no JSON encoder would write: bad syntax, non-finite numbers, wrong encodings, deep nesting.
RAW_BODIES = [
    b"", b"{", b"[", b"}", b"null", b"NaN", b"Infinity", b'{"spec": NaN}', b'{"input": {"x": Infinity}}',
    b'{"input": -Infinity}', b'{"input": 1e309}', b'{"budget": {"max_cost_usd": 1e999}, "input": {}}',
    b"\xff\xfe", b'{"a": "\\ud800"}', b'{"spec": "\x00"}', b"[" * 5000 + b"]" * 5000,
    b'{"spec": ' + b"[" * 3000 + b"]" * 3000 + b"}", b'{"a": 1, "a": 2}', b'"just a string"', b"0",
]


def raw_bodies(documents: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.sampled_from(RAW_BODIES), documents.map(lambda d: json.dumps(d).encode()),
                     st.binary(max_size=64))
