"""Templates under CPU limits: what the guard costs per render, and what a hostile run costs its neighbours.

1. Per render: the old unguarded sandbox, the guarded render inline, the guarded render in the render
   thread pool (what a node pays for a template that can compute), and a process pool round trip (the
   alternative that was not taken).
2. A trivial run's latency on one event loop, alone and while a hostile run computes a template
   (``max_seconds = 1``) or matches ``^(a+)+$`` on ``'a' * 40 + '!'``; and the longest the loop went
   without a turn.

    .venv/bin/python bench/template_cpu.py [--renders 2000] [--trivial 20]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jinja2 import StrictUndefined  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

from backend.engine import execute_graph, parse_graph  # noqa: E402
from backend.engine.ports import Ports  # noqa: E402
from backend.engine.template_sandbox import tojson as _tojson  # noqa: E402
from backend.engine.templates import render_text, render_text_async  # noqa: E402
from bench._common import machine, median, ms, table, today, write_section  # noqa: E402
from tests.engine.scripted import ScriptedLLM, chain, graph, llm  # noqa: E402

PLAIN = "Summarise for {{ input.audience }}:\n\n{{ input.text }}\n\nEarlier answer: {{ nodes.a.output }}"
LOOPING = ("Answer each question.\n{% for q in input.questions %}{{ loop.index }}. {{ q|trim }}\n{% endfor %}"
           "Context: {{ nodes.a.output|tojson }}")
CONTEXT = {"input": {"audience": "engineers", "text": "word " * 400, "questions": [f" question {i} " for i in range(20)]},
           "nodes": {"a": {"output": {"summary": "short", "points": ["a", "b", "c"]}}}}
HOSTILE = "{% for a in input.xs %}{{ input.text|replace('a', 'bb')|length }}{% endfor %}"
HOSTILE_INPUT = {"xs": list(range(20000)), "text": "a" * 20000}


def _old_render(source: str, context: dict[str, Any]) -> str:
    return _OLD.from_string(source).render(**context)


_OLD = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_OLD.filters["tojson"] = _tojson  # as the engine configured it before the limits
_OLD.globals.clear()


def _timed(fn: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - started) / count


async def _in_thread_pool(source: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await render_text_async(source, CONTEXT)
    return (time.perf_counter() - started) / count


def _measure(name: str, source: str, n: int, processes: ProcessPoolExecutor) -> list[object]:
    assert render_text(source, CONTEXT) == _old_render(source, CONTEXT)
    old_template = _OLD.from_string(source)
    old = _timed(lambda: old_template.render(**CONTEXT), n)
    inline = _timed(lambda: render_text(source, CONTEXT), n)
    node_path = asyncio.run(_in_thread_pool(source, n))
    process = _timed(lambda: processes.submit(render_text, source, CONTEXT).result(), max(n // 10, 20))
    return [name, ms(old, 3), ms(inline, 3), ms(node_path, 3), ms(process, 3)]


def per_render(n: int) -> list[list[object]]:
    with ProcessPoolExecutor(max_workers=1) as processes:
        processes.submit(render_text, PLAIN, CONTEXT).result()  # start the process before timing
        return [_measure(name, source, n, processes)
                for name, source in (("plain lookups", PLAIN), ("loop + filters", LOOPING))]


async def _run(doc: dict, input: object) -> Any:
    return await execute_graph(parse_graph(doc), input, ports=Ports(llm=ScriptedLLM()))


def _trivial() -> dict:
    return graph([{"id": "in", "type": "input"}, llm("a", "{{ input.text }}"),
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}], chain("in", "a", "out"))


def _hostile_template() -> tuple[dict, object]:
    nodes = [{"id": "in", "type": "input"}, {"id": "bomb", "type": "transform", "config": {"value": HOSTILE}},
             {"id": "out", "type": "output", "config": {"value": "{{ nodes.bomb.output }}"}}]
    return graph(nodes, chain("in", "bomb", "out"), budget={"max_seconds": 1}), HOSTILE_INPUT


def _hostile_regex() -> tuple[dict, object]:
    gate = {"id": "check", "type": "gate",
            "config": {"check": {"kind": "regex", "value": "{{ input.text }}", "pattern": "^(a+)+$"}}}
    nodes = [{"id": "in", "type": "input"}, gate, {"id": "out", "type": "output", "config": {"value": "x"}}]
    return graph(nodes, chain("in", "check", "out"), budget={"max_seconds": 1}), {"text": "a" * 40 + "!"}


async def neighbours(kind: str, trivial_runs: int) -> list[object]:
    stall = 0.0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal stall
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            stall, last = max(stall, now - last), now

    beat = asyncio.create_task(heartbeat())
    hostile = None
    if kind != "alone":
        doc, input = _hostile_template() if kind == "template" else _hostile_regex()
        hostile = asyncio.create_task(_run(doc, input))
        await asyncio.sleep(0.05)
    latencies = []
    for _ in range(trivial_runs):
        started = time.monotonic()
        result = await _run(_trivial(), {"text": "hi"})
        assert result.status == "succeeded"
        latencies.append(time.monotonic() - started)
        if hostile is not None and hostile.done():
            break
    outcome = "-"
    if hostile is not None:
        result = await hostile
        outcome = f"{result.status} after {result.totals['duration_ms'] / 1000:.2f} s"
    stop.set()
    await beat
    return [kind, len(latencies), ms(median(latencies), 1), ms(max(latencies), 1), ms(stall, 1), outcome]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--trivial", type=int, default=20)
    args = parser.parse_args()
    render_rows = per_render(args.renders)
    neighbour_rows = [asyncio.run(neighbours(kind, args.trivial)) for kind in ("alone", "template", "regex")]
    body = f"""## Templates under CPU limits (bench/template_cpu.py)

{today()}; {machine()}.

Milliseconds per render of two prompts ({args.renders} renders each; the process pool: {max(args.renders // 10, 20)}).
"old" is the sandbox before the limits; "guarded inline" is the same render with every loop step, call, filter
and operator counted and size-checked; "node path" is what a running node pays (`render_text_async`:
lookups-only templates inline, anything that can compute in the render thread pool); "process pool" is
one round trip to a worker process, the alternative not taken.

{table(["template", "old ms", "guarded inline ms", "node path ms", "process pool ms"], render_rows)}

A trivial run (input → llm with a 0 ms scripted model → output) on one event loop, alone and while a
hostile run computes beside it (`max_seconds = 1`): a template that does ~2 s of moderate steps, or a gate
matching `^(a+)+$` against `'a' * 40 + '!'` (RE2). "Longest stall" is the longest the loop went
without running a 5 ms heartbeat.

{table(["beside", "trivial runs", "p50 ms", "max ms", "longest stall ms", "hostile run"], neighbour_rows)}
"""
    print(body)
    write_section("template_cpu", body)


if __name__ == "__main__":
    main()
