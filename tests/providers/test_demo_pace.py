"""Demo models answer at a real model's pace (time to first token, then tokens per second), or at once."""
from __future__ import annotations

import asyncio
import time

from backend.engine.ports import LLMRequest
from backend.providers.demo_provider import DemoPace, word_chunks
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import ModelRoute

PROMPT = [{"role": "user", "content": "Summarise:\n" + "word " * 30}]


def _stream(route: ModelRoute) -> tuple[list[tuple[float, str]], float, str]:
    async def resolve(alias: str) -> ModelRoute:
        return route

    arrivals: list[tuple[float, str]] = []
    started = time.monotonic()
    request = LLMRequest(route.alias, PROMPT, stream=True)
    result = asyncio.run(LiteLLMGateway(resolve).complete(
        request, lambda delta, attempt=1: arrivals.append((time.monotonic() - started, delta))))
    return arrivals, time.monotonic() - started, result.text


def test_the_pace_waits_for_the_first_token_then_for_each_words_tokens() -> None:
    chunks = word_chunks("one two sixteen-letters-long")
    assert chunks == ["one ", "two ", "sixteen-letters-long"]
    assert DemoPace(first_token_s=0.5, tokens_per_s=10).delays(chunks) == [0.5, 0.1, 0.5]
    assert DemoPace(first_token_s=0.5, tokens_per_s=0).delays(chunks) == [0.5, 0.0, 0.0]
    assert DemoPace().total_s("a b c") == 0


def test_a_paced_demo_streams_its_tokens_over_time() -> None:
    arrivals, _, text = _stream(ModelRoute(alias="paced", model="demo/paced", demo_latency_ms=300,
                                           demo_tokens_per_s=40))
    assert "".join(delta for _, delta in arrivals) == text and len(arrivals) > 10
    first, last = arrivals[0][0], arrivals[-1][0]
    assert first >= 0.28, "the first token waits for the time to first token"
    assert last - first >= (len(arrivals) - 1) / 40 * 0.9, "the rest comes at about 40 tokens a second"


def test_an_unpaced_demo_answers_at_once() -> None:
    arrivals, took, text = _stream(ModelRoute(alias="instant", model="demo/instant"))
    assert len(arrivals) > 10 and "".join(d for _, d in arrivals) == text
    assert took < 0.5
