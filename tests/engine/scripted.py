"""A scripted model for engine tests: answers by a function, with set latency and prices.

Its latency is an asyncio sleep: under virtual_time.run_virtual it costs no wall time and orders exactly.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.engine.ports import DeltaCallback, LLMError, LLMRequest, LLMResult


@dataclass
class ScriptedLLM:
    answer: Callable[[LLMRequest], str] = lambda req: "ok"
    latency_s: float = 0.0
    cost_per_call: float = 0.001
    fail_aliases: set[str] = field(default_factory=set)
    calls: list[LLMRequest] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # alias -> the model it resolves to (scripted/<alias>)

    async def estimate_cost(self, request: LLMRequest) -> float:
        return self.cost_per_call

    async def resolved_model(self, alias: str) -> dict[str, Any]:
        return {"model": self.models.get(alias, f"scripted/{alias}")}

    async def complete(self, request: LLMRequest, on_delta: DeltaCallback | None = None) -> LLMResult:
        self.calls.append(request)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if request.alias in self.fail_aliases:
            raise LLMError("provider error 500 after 3 attempts", attempts=3, model=f"scripted/{request.alias}")
        text = self.answer(request)
        if on_delta:
            for word in text.split(" "):
                on_delta(word)
        return LLMResult(text=text, model=f"scripted/{request.alias}", input_tokens=10, output_tokens=5,
                         cost_usd=self.cost_per_call)


def graph(nodes: list[dict], edges: list[dict], **extra: object) -> dict:
    return {"schema": "patchbay.graph/v1", "name": "test", "nodes": nodes, "edges": edges, **extra}


def llm(node_id: str, prompt: str = "hi {{ input.text }}", **config: object) -> dict:
    return {"id": node_id, "type": "llm", "config": {"model": "fast", "prompt": prompt, **config}}


def chain(*ids: str) -> list[dict]:
    return [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
