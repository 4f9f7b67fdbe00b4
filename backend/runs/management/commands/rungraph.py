"""python manage.py rungraph graphs/chain.json --input '{"text": "..."}' [--json]

Runs a graph file through the same engine and model gateway as the workers,
without queueing it: for trying a graph, scripting, and benchmarks. Exit
status 0 means the run succeeded; 1 means invalid input, an invalid graph or
a run that did not succeed.
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.config.embedded import ensure_schema
from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.runner import RunResult, input_problems
from backend.graphs.selectors import dependencies, pin_subgraph_refs, validation_context
from backend.providers.gateway import LiteLLMGateway, litellm_module
from backend.providers.registry import resolve_route


def load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def spans_as_tree(spans: list[Any]) -> list[tuple[int, Any]]:
    """Spans depth-first, each under its parent, with its depth."""
    children: dict[str | None, list[Any]] = {}
    for span in spans:
        children.setdefault(span.parent_id, []).append(span)
    ordered: list[tuple[int, Any]] = []

    def visit(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            ordered.append((depth, span))
            visit(span.span_id, depth + 1)

    visit(None, 0)
    return ordered


def span_table(result: RunResult) -> str:
    rows = [("node", "kind", "status", "model", "tok in", "tok out", "cost $", "ms")]
    for depth, span in spans_as_tree(result.spans):
        label = span.node_id if span.kind == "node" else span.name
        name = ("  " * (depth - 1) + "└ " if depth else "") + (label or "")
        rows.append((name, span.kind, span.status, span.model or "-", str(span.input_tokens),
                     str(span.output_tokens), f"{span.cost_usd:.6f}",
                     "-" if span.duration_ms is None else f"{span.duration_ms:.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


class Command(BaseCommand):
    help = "Run a graph file through the engine and print its spans and output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("graph", help="path to a graph JSON file")
        parser.add_argument("--input", default="{}", help="the run input, as JSON")
        parser.add_argument("--json", action="store_true", help="print the run record as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["graph"])
        if not path.is_file():
            raise CommandError(f"no graph file at {path}")
        doc = load_json(path.read_text(), str(path))
        run_input = load_json(options["input"], "--input")
        ensure_schema(self.stderr.write)  # model aliases and prompts live in the database
        pinned = pin_subgraph_refs(None, doc)  # a file may name saved graphs ("shouter@3"): pinned to ids here
        doc = pinned.spec
        deps = dependencies(None, doc)
        problems = pinned.problems or validate_graph(doc, validation_context(None, doc))
        if problems:
            self.stderr.write(f"{path}: the graph has {len(problems)} problem(s):")
            for problem in problems:
                self.stderr.write(f"  {problem}")
            sys.exit(1)
        spec = parse_graph(doc)
        input_problem = input_problems(spec, run_input)
        if input_problem:
            self.stderr.write(f"--input does not fit the graph's input schema: {input_problem}")
            sys.exit(1)
        litellm_module()  # import it now, so the first span does not carry the import time
        ports = Ports(llm=LiteLLMGateway(resolve_route), events=CollectingEvents())
        result = asyncio.run(execute_graph(spec, run_input, ports=ports, prompts=deps.prompts,
                                                   subgraphs=deps.subgraphs))
        if options["json"]:
            record = result.to_dict()
            self.stdout.write(json.dumps(record, indent=2, default=str, ensure_ascii=False))
        else:
            self.stdout.write(span_table(result))
            self.stdout.write("")
            totals = result.totals
            self.stdout.write(f"status: {result.status}   tokens: {totals['input_tokens']} in / "
                              f"{totals['output_tokens']} out   cost: ${totals['cost_usd']:.6f}   "
                              f"time: {totals['duration_ms']:.0f} ms")
            if result.error:
                self.stdout.write(f"error: {result.error}")
            self.stdout.write("output:")
            self.stdout.write(json.dumps(result.output, indent=2, ensure_ascii=False))
        if result.status != "succeeded":
            sys.exit(1)
