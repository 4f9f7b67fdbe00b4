"""Engine overhead per node: the scheduler, templates, spans and events, with a 0 ms model.

Runs ``execute_graph`` in-process (no Django, no I/O) on four 50-node graphs:
a linear chain and a wide fan-out, each made of ``llm`` nodes (answered by a
scripted model with no latency) and of ``transform`` nodes (no model call).
The events port discards events, so what is measured is the engine itself.

    .venv/bin/python bench/engine_overhead.py [--runs 200] [--warmup 10]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.engine import execute_graph, parse_graph, validate_graph  # noqa: E402
from backend.engine.ports import LLMRequest, LLMResult, Ports  # noqa: E402
from bench._common import machine, median, ms, p95, table, today, write_section  # noqa: E402

NODES = 50  # input + 48 middle nodes + output
MIDDLE = NODES - 2
TARGET_MS_PER_NODE = 1.0


class ZeroLatencyLLM:
    """The engine's ``llm`` port answered in-process at once (like tests/engine/scripted.py, latency 0)."""

    def __init__(self) -> None:
        self.calls = 0

    async def estimate_cost(self, request: LLMRequest) -> float:
        return 0.001

    async def resolved_model(self, alias: str) -> dict[str, Any]:
        return {"model": f"scripted/{alias}"}

    async def complete(self, request: LLMRequest, on_delta: Any = None) -> LLMResult:
        self.calls += 1
        return LLMResult(text="ok", model=f"scripted/{request.alias}", input_tokens=10, output_tokens=5,
                         cost_usd=0.001)


class NullEvents:
    """An events port that drops everything (the host's queue and writer are not measured here)."""

    def emit(self, event: dict[str, Any]) -> None:
        return None


def _doc(nodes: list[dict], edges: list[dict], name: str) -> dict:
    return {"schema": "patchbay.graph/v1", "name": name, "inputs": {"type": "object"}, "nodes": nodes,
            "edges": edges}


def _middle(kind: str, node_id: str, source: str, step: int) -> dict:
    reads = "input.text" if source == "in" else f"nodes.{source}.output"
    if kind == "llm":
        return {"id": node_id, "type": "llm", "config": {"model": "fast", "prompt": f"Step {step}: improve {{{{ {reads} }}}}"}}
    return {"id": node_id, "type": "transform", "config": {"value": f"Step {step}: {{{{ {reads} | length }}}} chars"}}


def chain_graph(kind: str) -> dict:
    ids = ["in"] + [f"n{i}" for i in range(1, MIDDLE + 1)] + ["out"]
    nodes = [{"id": "in", "type": "input"}]
    nodes += [_middle(kind, ids[i], ids[i - 1], i) for i in range(1, MIDDLE + 1)]
    nodes.append({"id": "out", "type": "output", "config": {"value": f"{{{{ nodes.n{MIDDLE}.output }}}}"}})
    edges = [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
    return _doc(nodes, edges, f"{kind}-chain-{NODES}")


def fanout_graph(kind: str) -> dict:
    middle = [f"n{i}" for i in range(1, MIDDLE + 1)]
    nodes = [{"id": "in", "type": "input"}]
    nodes += [_middle(kind, node_id, "in", i) for i, node_id in enumerate(middle, start=1)]
    nodes.append({"id": "out", "type": "output", "config": {"value": "{{ nodes.n1.output }}"}})
    edges = [{"from": "in", "to": n} for n in middle] + [{"from": n, "to": "out"} for n in middle]
    return _doc(nodes, edges, f"{kind}-fanout-{NODES}")


async def measure(doc: dict, runs: int, warmup: int) -> dict[str, Any]:
    problems = validate_graph(doc)
    if problems:
        raise SystemExit(f"{doc['name']} is not a valid graph: {problems}")
    llm = ZeroLatencyLLM()
    samples: list[float] = []
    for i in range(warmup + runs):
        ports = Ports(llm=llm, events=NullEvents())
        started = time.perf_counter()
        # parse_graph is part of every real run (the worker parses the stored spec each time).
        result = await execute_graph(parse_graph(doc), {"text": "hello"}, ports=ports)
        elapsed = time.perf_counter() - started
        if result.status != "succeeded":
            raise SystemExit(f"{doc['name']}: run {result.status}: {result.error}")
        if i >= warmup:
            samples.append(elapsed)
    validate_samples = []
    for _ in range(10):
        started = time.perf_counter()
        validate_graph(doc)
        validate_samples.append(time.perf_counter() - started)
    return {"name": doc["name"], "samples": samples, "llm_calls": llm.calls // (warmup + runs),
            "validate": median(validate_samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only; leave results.md alone")
    args = parser.parse_args()

    cases = [
        ("llm", "chain", chain_graph("llm")),
        ("llm", "fan-out", fanout_graph("llm")),
        ("transform", "chain", chain_graph("transform")),
        ("transform", "fan-out", fanout_graph("transform")),
    ]
    rows = []
    wall = time.perf_counter()
    for kind, shape, doc in cases:
        res = asyncio.run(measure(doc, args.runs, args.warmup))
        med, high = median(res["samples"]), p95(res["samples"])
        rows.append([f"{NODES}-node {shape}", f"{kind} ×{MIDDLE}", res["llm_calls"], ms(med), ms(high),
                     f"{med * 1000 / NODES:.3f}", f"{high * 1000 / NODES:.3f}", ms(res["validate"])])
        print(f"{res['name']:<24} median {ms(med)} ms  p95 {ms(high)} ms  per node {med * 1000 / NODES:.3f} ms",
              file=sys.stderr)
    wall = time.perf_counter() - wall

    body = f"""## Engine overhead per node (`bench/engine_overhead.py`)

`execute_graph` in-process with a 0 ms scripted model (answers "ok" at once) and an events port that drops
events: the cost of the scheduler, template rendering, budget checks, spans and event building. Graphs have
{NODES} nodes: input → {MIDDLE} middle nodes → output. Chain: each middle node's template reads the previous
node's output (`Step i: improve {{{{ nodes.prev.output }}}}`; transforms `Step i: {{{{ nodes.prev.output | length }}}} chars`).
Fan-out: all {MIDDLE} read `input.text` and run concurrently on one loop; the output reads `nodes.n1.output`.
Each timed run includes `parse_graph` (as the worker does); `validate_graph` (save time, not per run) is shown apart.

Conditions: {machine()}; {today()}; {args.warmup} warm-up runs, then {args.runs} timed runs per graph
(`time.perf_counter`); total wall {wall:.1f} s. Target to compare against: ≤ {TARGET_MS_PER_NODE:g} ms per node.

{table(["graph", "middle nodes", "model calls/run", "median ms/run", "p95 ms/run", "median ms/node",
        "p95 ms/node", "validate_graph ms"], rows)}
"""
    print(body)
    if not args.no_write:
        write_section("engine_overhead", body)


if __name__ == "__main__":
    main()
