"""Every implementation of the engine's cache port passes the same tests.

RedisCache (backend/runs/cache.py, the worker's) and MemoryCache (backend/engine/ports.py, for the CLI,
benchmarks and engine tests) must behave alike, or a test passing on one proves nothing about the other.
NoCache is the null object (it never keeps anything) and is not held to this contract.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.engine import execute_graph, parse_graph
from backend.engine.ports import Cache, CollectingEvents, LLMResult, MemoryCache, Ports
from tests.engine.scripted import ScriptedLLM, chain, graph, llm

CacheFactory = Callable[[], Cache]


def _memory() -> Iterator[CacheFactory]:
    yield MemoryCache


def _redis() -> Iterator[CacheFactory]:
    from backend.config.redis_clients import sync_redis
    from backend.runs.cache import RedisCache

    namespaces: list[str] = []

    def make() -> Cache:
        namespaces.append(f"conformance-{uuid.uuid4().hex}")
        return RedisCache(namespaces[-1])

    yield make
    client = sync_redis()
    for namespace in namespaces:
        for key in client.scan_iter(f"patchbay:cache:{namespace}:*"):
            client.delete(key)


@pytest.fixture(params=[_memory, _redis], ids=["memory", "redis"])
def new_cache(request: pytest.FixtureRequest) -> Iterator[CacheFactory]:
    yield from request.param()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# What the engine stores: a model result's fields and the original call's time (runtime.py's cache entry).
ANSWER = {"result": LLMResult(text="Bonjour", model="scripted/fast", input_tokens=12, output_tokens=3,
                              cost_usd=0.00042, attempts=2, fallback_from=["primary"],
                              parsed={"greeting": "Bonjour", "n": [1, 2.5, None]},
                              attributes={"patchbay.attempt_errors": ["timeout: 30 s"], "ok": True}).__dict__,
          "duration_ms": 812.5}


def test_a_key_never_set_is_a_miss(new_cache: CacheFactory) -> None:
    assert run(new_cache().get("nothing-here")) is None


def test_what_is_set_comes_back_equal(new_cache: CacheFactory) -> None:
    cache = new_cache()

    async def main() -> Any:
        await cache.set("k", ANSWER)
        return await cache.get("k")

    assert run(main()) == ANSWER


def test_a_second_set_replaces_the_first(new_cache: CacheFactory) -> None:
    cache = new_cache()

    async def main() -> Any:
        await cache.set("k", {"text": "old"})
        await cache.set("k", {"text": "new"})
        return await cache.get("k")

    assert run(main()) == {"text": "new"}


def test_a_value_is_kept_as_it_was_when_set(new_cache: CacheFactory) -> None:
    """Changing the dict after set, or the one get returned, does not change what the cache holds."""
    cache = new_cache()
    value = {"text": "a", "attributes": {"n": 1}}

    async def main() -> tuple[Any, Any]:
        await cache.set("k", value)
        value["attributes"]["n"] = 2
        first = await cache.get("k")
        first["text"] = "changed"
        return first, await cache.get("k")

    first, second = run(main())
    assert second == {"text": "a", "attributes": {"n": 1}}
    assert first["text"] == "changed" and second["text"] == "a"


def test_two_caches_do_not_share_entries(new_cache: CacheFactory) -> None:
    """One workspace's cached answers are never served to another."""
    mine, theirs = new_cache(), new_cache()

    async def main() -> Any:
        await mine.set("k", {"text": "mine"})
        return await theirs.get("k")

    assert run(main()) is None


def test_the_engine_serves_a_repeated_deterministic_call_from_it(new_cache: CacheFactory) -> None:
    cache = new_cache()
    model = ScriptedLLM(answer=lambda r: '{"n": 41}')
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    doc = graph([{"id": "in", "type": "input"}, llm("a", params={"temperature": 0}, output_schema=schema),
                 {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output.n + 1 }}"}}],
                chain("in", "a", "out"))

    def once() -> Any:
        return run(execute_graph(parse_graph(doc), {"text": "x"}, ports=Ports(llm=model, events=CollectingEvents(),
                                                                                cache=cache)))

    first, second = once(), once()
    assert first.output == second.output == 42
    assert len(model.calls) == 1
    hit = next(s for s in second.spans if s.kind == "llm")
    assert hit.cache_hit and hit.cost_usd == 0


def test_an_entry_expires_after_its_ttl(new_cache: CacheFactory) -> None:
    cache = new_cache()

    async def main() -> tuple[Any, Any]:
        await cache.set("short", {"text": "soon gone"}, 0.3)
        await cache.set("long", {"text": "stays"}, 60)
        await asyncio.sleep(0.45)
        return await cache.get("short"), await cache.get("long")

    short, long = run(main())
    assert short is None
    assert long == {"text": "stays"}


def test_an_entry_is_served_within_its_ttl(new_cache: CacheFactory) -> None:
    cache = new_cache()

    async def main() -> Any:
        await cache.set("k", {"text": "fresh"}, 5)
        await asyncio.sleep(0.1)
        return await cache.get("k")

    assert run(main()) == {"text": "fresh"}


def test_a_second_set_restarts_the_ttl(new_cache: CacheFactory) -> None:
    cache = new_cache()

    async def main() -> Any:
        await cache.set("k", {"text": "old"}, 0.3)
        await cache.set("k", {"text": "new"}, 60)
        await asyncio.sleep(0.45)
        return await cache.get("k")

    assert run(main()) == {"text": "new"}


def test_the_engine_honours_a_steps_ttl(new_cache: CacheFactory) -> None:
    """A step's cache_ttl_s reaches the cache: past it, the same call asks the model again."""
    cache = new_cache()
    model = ScriptedLLM(answer=lambda r: "Bonjour")
    doc = graph([{"id": "in", "type": "input"}, llm("a", params={"temperature": 0}, cache_ttl_s=1),
                 {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}], chain("in", "a", "out"))

    def once() -> Any:
        return run(execute_graph(parse_graph(doc), {"text": "x"}, ports=Ports(llm=model, events=CollectingEvents(),
                                                                                cache=cache)))

    once()
    assert once().totals["cache_hits"] == 1 and len(model.calls) == 1
    run(asyncio.sleep(1.2))
    third = once()
    assert third.totals["cache_hits"] == 0 and len(model.calls) == 2
