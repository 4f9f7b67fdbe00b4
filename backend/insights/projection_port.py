"""The engine's ``llm`` port for a dry run: demo answers, priced and paced as the real aliases, no provider call.

Each answer is the demo model's (deterministic, from the prompt), billed at the alias's own price (the
gateway's pricing, so exactly what a real call of that length would cost) and "taking" the alias's demo pace
(first token, then tokens per second) as a sleep, which a virtual-time loop turns into latency for free.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from backend.engine.ports import DeltaCallback, LLMError, LLMRequest, LLMResult
from backend.providers.demo import demo_answer
from backend.providers.demo_provider import DemoPace
from backend.providers.routes import ModelRoute

Pricer = Callable[[ModelRoute, list[dict[str, str]], str], tuple[int, int, float]]


class ProjectionLLM:
    def __init__(self, routes: Mapping[str, ModelRoute], price: Pricer, paces: Mapping[str, DemoPace]) -> None:
        self.routes, self.price, self.paces = routes, price, paces

    def _route(self, alias: str) -> ModelRoute:
        route = self.routes.get(alias)
        if route is None:
            raise LLMError(f"unknown model alias '{alias}'", kind="unknown_model")
        # What would answer today: the alias, or (switched off) its first fallback that is on.
        return next((r for r in (route, *route.fallbacks) if r.enabled), route)

    async def resolved_model(self, alias: str) -> dict[str, Any]:
        return {"model": self._route(alias).model, "api_base": None, "enabled": True}

    async def estimate_cost(self, request: LLMRequest) -> float:
        return 0.0  # budgets are held to the priced answers; a dry run never refuses a call up front

    async def complete(self, request: LLMRequest, on_delta: DeltaCallback | None = None) -> LLMResult:
        route = self._route(request.alias)
        text = demo_answer(list(request.messages), request.response_schema, request.params.get("seed"))
        input_tokens, output_tokens, cost = self.price(route, request.messages, text)
        pace = self.paces.get(route.alias) or DemoPace()
        await asyncio.sleep(pace.total_s(text))
        return LLMResult(text=text, model=route.model, input_tokens=input_tokens, output_tokens=output_tokens,
                         cost_usd=cost, demo=True, attributes={"patchbay.projection": True})
