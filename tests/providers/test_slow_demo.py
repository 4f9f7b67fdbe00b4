"""The seeded "slow" demo alias takes 8–20 s and streams its answer over that time, like a long frontier reply.

The other seeded demo aliases are paced like real models: a first token in 0.3–0.8 s, then 30–80 tokens a second.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from backend.engine.ports import LLMRequest
from backend.providers.demo_provider import DemoPace, word_chunks
from backend.providers.gateway import LiteLLMGateway
from backend.providers.models import ModelAlias
from backend.providers.routes import ModelRoute
from backend.providers.seeding import seed_model_aliases

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_seed_adds_a_slow_streaming_demo_alias() -> None:
    assert "slow" in seed_model_aliases(ROOT / "fixtures" / "models.json", environ={})
    slow = ModelAlias.objects.get(alias="slow")
    digest_tokens = 30  # a demo digest is up to 24 words
    takes_s = slow.demo_latency_ms / 1000 + digest_tokens / slow.demo_tokens_per_s
    assert slow.model.startswith("demo/") and 8 <= takes_s <= 20
    assert slow.timeout_s > takes_s, "its own timeout must let it finish"
    for alias in ModelAlias.objects.exclude(alias="slow"):
        assert 300 <= alias.demo_latency_ms <= 800 and 30 <= alias.demo_tokens_per_s <= 80, alias.alias


def test_a_demo_stream_spreads_its_latency_over_the_words() -> None:
    route = ModelRoute(alias="paced", model="demo/paced", demo_latency_ms=200, demo_tokens_per_s=60)

    async def resolve(alias: str) -> ModelRoute:
        return route

    arrivals: list[float] = []
    started = time.monotonic()
    request = LLMRequest("paced", [{"role": "user", "content": "Summarise:\n" + "word " * 40}], stream=True)
    result = asyncio.run(LiteLLMGateway(resolve).complete(request, lambda _delta, attempt=1: arrivals.append(time.monotonic())))
    assert len(arrivals) > 3 and result.text
    assert arrivals[0] - started >= 0.18, "the first token comes after the time to first token"
    # The provider sleeps before each word: the last word cannot come before every wait has passed, however loaded
    # the machine. The spread from the first word is only half that: a loaded machine may hand the first word over
    # late (the words after it keep their own waits): the spread once came out 4 ms short of 0.4 s under load.
    rest_s = sum(DemoPace(first_token_s=0.2, tokens_per_s=60).delays(word_chunks(result.text))[1:])
    assert rest_s > 0.3 and arrivals[-1] - started >= 0.2 + rest_s, "every word waited its turn"
    assert arrivals[-1] - arrivals[0] >= rest_s / 2, "the rest is spread over the stream, not sent at once"
