"""N-way fan-out of the pattern nodes on a 200 ms model: do N branches take ~200 ms, not N × 200 ms?

Runs parallel (N branches), vote (N samples) and orchestrator (N workers) through the
real litellm gateway to bench/fake_openai.py over HTTP with 200 ms latency, and
records the fan-out phase's wall time: the node span for parallel and vote, and
first worker start → last worker end for the orchestrator (its planner and
synthesizer are sequential calls by design). Target: ≤ 1.1 × 200 ms for N ≤ 8.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from backend.engine import execute_graph, parse_graph, validate_graph  # noqa: E402
from backend.engine.ports import Ports  # noqa: E402
from backend.providers.gateway import LiteLLMGateway, litellm_module  # noqa: E402
from backend.providers.routes import ModelRoute  # noqa: E402
from bench._common import machine, median, p95, table, today, write_section  # noqa: E402
from bench.fake_openai import FakeConfig, start_in_thread  # noqa: E402

LATENCY_MS = 200
REPEATS = 7
SIZES = (1, 2, 4, 8)


def step(prompt: str) -> dict:
    return {"model": "m200", "prompt": prompt}


def graph_for(kind: str, n: int) -> dict:
    if kind == "parallel":
        config = {"branches": [{"name": f"b{i}", "step": step(f"part {i}: {{{{ input.text }}}}")} for i in range(n)]}
    elif kind == "vote":
        config = {"samples": n, "step": step("Safe? {{ input.text }}")}
    else:
        config = {"max_workers": n, "planner": {**step("Plan {{ input.text }}"), "output_schema": None},
                  "worker": step("Do {{ task.title }}"), "synthesizer": step("Sum up {{ results | length }}")}
        del config["planner"]["output_schema"]
    return {"schema": "patchbay.graph/v1", "name": f"{kind}-{n}",
            "nodes": [{"id": "in", "type": "input"}, {"id": "fan", "type": kind, "config": config},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.fan.output }}"}}],
            "edges": [{"from": "in", "to": "fan"}, {"from": "fan", "to": "out"}]}


def fan_out_ms(result, kind: str) -> float:  # type: ignore[no-untyped-def]
    if kind == "orchestrator":
        workers = [s for s in result.spans if s.kind == "worker"]
        return (max(s.ended_at for s in workers) - min(s.started_at for s in workers)) * 1000
    node = next(s for s in result.spans if s.kind == "node" and s.node_id == "fan")
    return node.duration_ms


async def main() -> None:
    server = start_in_thread(FakeConfig(latency_ms=LATENCY_MS))
    litellm_module()
    route = ModelRoute(alias="m200", model="openai/gpt-4o-mini", api_base=server.url, api_key="bench",
                       max_retries=0, timeout_s=10)

    async def resolve(alias: str) -> ModelRoute:
        return route

    gateway = LiteLLMGateway(resolve)
    rows = []
    started = time.perf_counter()
    try:
        for kind in ("parallel", "vote", "orchestrator"):
            for n in SIZES:
                doc = graph_for(kind, n)
                assert validate_graph(doc) == [], validate_graph(doc)
                spec = parse_graph(doc)
                # The planner must return n subtasks: the fake server fills minItems from the schema.
                if kind == "orchestrator":
                    from backend.engine.nodes import orchestrator
                    orchestrator.PLAN_SCHEMA["properties"]["subtasks"]["minItems"] = n
                walls = []
                for i in range(REPEATS + 1):
                    result = await execute_graph(spec, {"text": f"run {i}"}, ports=Ports(llm=gateway))
                    assert result.status == "succeeded", result.error
                    if kind == "orchestrator":
                        assert len([s for s in result.spans if s.kind == "worker"]) == n
                    if i:  # the first run warms connections
                        walls.append(fan_out_ms(result, kind))
                rows.append([kind, n, f"{median(walls):.1f}", f"{p95(walls):.1f}",
                             f"{median(walls) / LATENCY_MS:.3f}", f"{n * LATENCY_MS}"])
    finally:
        server.stop()
    body = f"""## Pattern fan-out on a 200 ms model (`bench/patterns_fanout.py`)

parallel (N branches), vote (N samples) and orchestrator (N workers) through the litellm gateway to
`bench/fake_openai.py` over HTTP, every call 200 ms. Measured: the fan-out phase (node span for parallel and vote;
first worker start to last worker end for the orchestrator, whose planner and synthesizer run before and after).
Target: ≤ 1.1 × 200 ms = 220 ms for N ≤ 8.

Conditions: {machine()}; {today()}; {REPEATS} timed runs per row after one warm-up; total wall {time.perf_counter() - started:.1f} s.

{table(["pattern", "N", "median ms", "p95 ms", "median / 200 ms", "if serial, ms"], rows)}
"""
    write_section("patterns_fanout", body)
    print(body)


if __name__ == "__main__":
    asyncio.run(main())
    print(json.dumps({"ok": True}))
