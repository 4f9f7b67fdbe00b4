"""Validation at the documented limits: how long ``validate_graph`` takes on a 1,000- and a 2,000-node chain,
a 2,000-node cycle, and what the offline schema checks (refs, ref loops, patterns) cost per schema.

In process (no HTTP): the API adds JSON parsing and the response. Median of ``--repeat`` runs.

    .venv/bin/python bench/validation_limits.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.engine import validate_graph  # noqa: E402
from backend.engine.schemas import schema_errors, schema_problems  # noqa: E402
from bench._common import machine, median, ms, table, today, write_section  # noqa: E402
from tests.engine.scripted import chain, graph  # noqa: E402


def linear(n: int, *, cycle: bool = False) -> dict[str, Any]:
    middle = [{"id": f"t{i}", "type": "transform", "config": {"value": "{{ input }}"}} for i in range(1, n - 1)]
    nodes = [{"id": "in", "type": "input"}, *middle, {"id": "out", "type": "output", "config": {"value": "{{ input }}"}}]
    ids = [node["id"] for node in nodes]
    edges = chain(*ids)
    if cycle:
        edges.append({"from": ids[-2], "to": ids[1]})
    return graph(nodes, edges)


def timed(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for label, doc in [("1,000-node chain", linear(1000)), ("2,000-node chain", linear(2000)),
                       ("2,000-node cycle (one problem)", linear(2000, cycle=True))]:
        problems = len(validate_graph(doc))
        rows.append([label, problems, ms(timed(lambda d=doc: validate_graph(d), args.repeat), 0)])
    chain_spec = json.loads((ROOT / "graphs" / "chain.json").read_text())
    tree = {"type": "object", "properties": {"tree": {"$ref": "#/$defs/node"}},
            "$defs": {"node": {"type": "object", "properties": {"children": {"type": "array",
                                                                             "items": {"$ref": "#/$defs/node"}}}}}}
    value = {"tree": {"children": [{"children": [{"children": []}]}] * 20}}
    schema_rows = [
        ["graphs/chain.json inputs: save-time check", ms(timed(lambda: schema_problems(chain_spec["inputs"], "i"),
                                                              args.repeat * 20), 3)],
        ["recursive $defs schema: save-time check", ms(timed(lambda: schema_problems(tree, "i"), args.repeat * 20), 3)],
        ["recursive $defs schema: validate a 61-node tree", ms(timed(lambda: schema_errors(tree, value),
                                                                    args.repeat * 20), 3)],
    ]
    body = f"""## Validation at the documented limits (bench/validation_limits.py)

{today()}, {machine()}. `validate_graph` in process, median of {args.repeat}; the API adds parsing and the reply.
Before issue 9 a 1,000-node chain raised RecursionError (a 500) in the recursive cycle check, and `ancestors`
walked every node's upstream separately (quadratic: ~0.9 s and ~2 M set entries for a 2,000-node chain
when the machine was quiet, with the cycle check made iterative). Load on this shared machine varies: compare
rows within one table, not across tables.

{table(["graph", "problems", "validate_graph ms"], rows)}

Schema checks (engine/schemas.py: metaschema, every `$ref` resolved locally, ref loops, RE2 patterns):

{table(["what", "ms"], schema_rows)}
"""
    print(body)
    write_section("validation_limits", body)


if __name__ == "__main__":
    main()
