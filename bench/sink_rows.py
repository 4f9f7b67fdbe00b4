"""CPU of turning a run's events into the sink's rows (issue 16): model instances before, column plans now.

The sink stores each batch of events as two JSON documents (``trace_writes.json_rows``: the events' rows and
their spans' rows). Before, every event and span became a ``RunEvent``/``Span`` instance (``Model.__init__``),
every event was first copied by ``without_nul``, and every column went through its field's ``pre_save`` and
``get_prep_value``; now the rows are dicts prepared column by column from a plan made once per model. Both
paths are run here, in process, on the batches the sink forms for one chain3 run (the engine's own events,
from ``execute_graph`` with an in-process model; the batches split where the sink splits them), and must give
the same JSON documents (``created_at`` apart, each path's own "now").

    .venv/bin/python bench/sink_rows.py [--runs 2000] [--repeats 7] [--write]

Needs DJANGO_SETTINGS_MODULE (no database: nothing is stored).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from backend.config.storable import may_hold_nul, without_nul  # noqa: E402
from backend.engine import execute_graph, parse_graph  # noqa: E402
from backend.engine.ports import LLMRequest, LLMResult, Ports  # noqa: E402
from backend.runs import sinks  # noqa: E402
from backend.runs.models import RunEvent, Span  # noqa: E402
from backend.runs.trace_writes import _columns, _plain  # noqa: E402
from bench._common import machine, median, table, today, write_section  # noqa: E402
from bench.engine_overhead import ZeroLatencyLLM  # noqa: E402
from bench.published_path import flow_spec  # noqa: E402

ANSWER = ("Here is the improved text, with a few more words than the question had, as a model writes "
          "them: clear, short sentences — and some punctuation, «quotes» and an emoji 🎉.")


class WordyLLM(ZeroLatencyLLM):
    async def complete(self, request: LLMRequest, on_delta: Any = None) -> LLMResult:
        result = await super().complete(request, on_delta)
        return LLMResult(text=ANSWER, model=result.model, input_tokens=42, output_tokens=37, cost_usd=0.000123)


class Collected:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def chain3_batches() -> tuple[str, list[list[dict[str, Any]]]]:
    """One chain3 run's numbered events, in the sink's batches: a step's end with the next one's start."""
    run_id = str(uuid.uuid4())
    collected = Collected()
    asyncio.run(execute_graph(parse_graph(flow_spec("chain3")), {"text": "Make this better, please."},
                              ports=Ports(llm=WordyLLM(), events=collected), run_id=run_id))
    batches: list[list[dict[str, Any]]] = [[]]
    for event in (e for e in collected.events if e.get("seq") is not None):
        if event["type"] == "span.completed":  # a model call's end: the step before it was stored meanwhile
            batches.append([])
        batches[-1].append(event)
    return run_id, batches


def _spans(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({e["span"]["span_id"]: e["span"] for e in events if isinstance(e.get("span"), dict)}.values())


def _instance_rows(rows: list[Any]) -> str:
    fields = _columns(type(rows[0])) if rows else ()
    return json.dumps([{f.column: _plain(f.get_prep_value(f.pre_save(row, True))) for f in fields} for row in rows])


def before(run_id: str, events: list[dict[str, Any]]) -> tuple[str, str]:
    """The sink's rows as 25f9a35 made them: a without_nul copy, then model instances."""
    numbered = [without_nul(e) for e in events]
    rows = [RunEvent(run_id=run_id, seq=e["seq"], type=e["type"], payload=e) for e in numbered]
    spans = [Span(**sinks._span_row(run_id, s)) for s in _spans(numbered)]
    return _instance_rows(rows), _instance_rows(spans)


def after(run_id: str, events: list[dict[str, Any]]) -> tuple[str, str]:
    """The sink's rows now (persist_events up to the statement)."""
    rows = sinks._event_rows(run_id, events)
    assert not may_hold_nul(rows)
    return rows, sinks._span_rows(run_id, events)


def _comparable(documents: tuple[str, str]) -> str:
    events, spans = json.loads(documents[0]), json.loads(documents[1])
    for row in events:
        assert dt.datetime.fromisoformat(row.pop("created_at")).tzinfo is not None
    return json.dumps([events, spans])


def cpu_us_per_run(path: Any, run_id: str, batches: list[list[dict[str, Any]]], runs: int) -> float:
    start = time.process_time()
    for _ in range(runs):
        for batch in batches:
            path(run_id, batch)
    return 1e6 * (time.process_time() - start) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="keep the section in bench/results.md")
    args = parser.parse_args()

    run_id, batches = chain3_batches()
    for batch in batches:
        assert _comparable(before(run_id, batch)) == _comparable(after(run_id, batch)), "the paths disagree"
    n_events = sum(map(len, batches))
    n_spans = sum(len(_spans(b)) for b in batches)
    size = sum(len(d) for b in batches for d in after(run_id, b))
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.repeats):  # alternating, so a change of load touches both
        for tag, path in (("before", before), ("after", after)):
            times[tag].append(cpu_us_per_run(path, run_id, batches, args.runs))
    rows = [[tag, " / ".join(f"{t:.0f}" for t in values), f"{median(values):.0f}"] for tag, values in times.items()]
    ratio = median(times["after"]) / median(times["before"])
    body = "\n".join([
        "## The sink's rows of a run, in process (`bench/sink_rows.py`, issue 16)",
        "",
        f"CPU of making one chain3 run's rows ({n_events} events and {n_spans} spans in {len(batches)} batches, "
        f"{size / 1024:.1f} KiB of JSON documents; the engine's own events) as `persist_events` makes them before "
        "its statement, averaged over "
        f"{args.runs} runs, {args.repeats} repeats alternating. **before**: a `without_nul` copy of each event, "
        "a `RunEvent`/`Span` instance per row, each column's `pre_save` and `get_prep_value` (25f9a35); "
        "**after**: `trace_writes.json_rows` (a column plan per model, dict rows, the U+0000 rule as a search "
        "of the events' JSON text). Both give the same JSON documents (checked first).",
        "",
        f"Conditions: {machine()}; {today()}.",
        "",
        table(["path", "µs of CPU per run (each repeat)", "median"], rows),
        "",
        f"after / before: {ratio:.2f}.",
    ])
    print(body)
    if args.write:
        write_section("sink_rows_micro", body)


if __name__ == "__main__":
    main()
