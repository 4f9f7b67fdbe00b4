"""The engine's cache: what its key covers, what a hit records, and a fresh run."""
from __future__ import annotations

import asyncio
from typing import Any

from backend.engine import execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, MemoryCache, Ports, WriteOnlyCache
from backend.engine.types import PromptTemplate
from tests.engine.scripted import ScriptedLLM, chain, graph, llm


def _doc(**step: Any) -> dict:
    return graph([{"id": "in", "type": "input"}, llm("a", **step),
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}], chain("in", "a", "out"))


def _run(doc: dict, model: ScriptedLLM, cache: Any, text: str = "x", **kw: Any) -> Any:
    return asyncio.run(execute_graph(parse_graph(doc), {"text": text}, ports=Ports(
        llm=model, events=CollectingEvents(), cache=cache), **kw))


def test_a_hit_is_a_span_with_the_cost_and_time_it_saved() -> None:
    model, cache = ScriptedLLM(latency_s=0.05, cost_per_call=0.0123), MemoryCache()
    doc = _doc(params={"temperature": 0})
    first = _run(doc, model, cache)
    second = _run(doc, model, cache)
    assert len(model.calls) == 1
    hit = next(s for s in second.spans if s.kind == "llm")
    assert hit.cache_hit and hit.cost_usd == 0
    assert hit.attributes["patchbay.cache.saved_cost_usd"] == 0.0123
    assert hit.attributes["patchbay.cache.saved_ms"] >= 50
    assert second.totals["cache_hits"] == 1 and second.totals["llm_calls"] == 0
    assert second.totals["saved_usd"] == 0.0123 and second.totals["saved_ms"] >= 50
    assert first.totals["saved_usd"] == 0 and first.totals["cache_hits"] == 0


def test_only_temperature_zero_is_cached_by_default_and_the_flag_overrides() -> None:
    model, cache = ScriptedLLM(), MemoryCache()
    for doc in (_doc(params={"temperature": 0.7}), _doc(params={"temperature": 0}, cache=False)):
        _run(doc, model, cache)
        _run(doc, model, cache)
    assert len(model.calls) == 4
    forced = _doc(params={"temperature": 0.7}, cache=True)
    _run(forced, model, cache)
    _run(forced, model, cache)
    assert len(model.calls) == 5


def test_remapping_the_alias_to_another_model_misses() -> None:
    model, cache = ScriptedLLM(), MemoryCache()
    doc = _doc(params={"temperature": 0})
    _run(doc, model, cache)
    model.models["fast"] = "scripted/other-model"
    remapped = _run(doc, model, cache)
    assert len(model.calls) == 2 and remapped.totals["cache_hits"] == 0
    again = _run(doc, model, cache)
    assert len(model.calls) == 2 and again.totals["cache_hits"] == 1


def test_the_key_covers_messages_params_schema_and_step_config() -> None:
    model, cache = ScriptedLLM(answer=lambda r: '{"n": 1}'), MemoryCache()
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    variants = [
        _doc(params={"temperature": 0}),
        _doc(params={"temperature": 0, "max_tokens": 50}),
        _doc(params={"temperature": 0}, output_schema=schema),
        _doc(params={"temperature": 0}, system=""),  # renders the same messages; the step differs
    ]
    for doc in variants:
        _run(doc, model, cache)
    _run(variants[0], model, cache, text="another input")
    assert len(model.calls) == 5
    for doc in variants:
        _run(doc, model, cache)
    assert len(model.calls) == 5  # each variant was cached under its own key


def test_the_key_covers_the_prompt_version() -> None:
    model, cache = ScriptedLLM(), MemoryCache()
    doc = graph([{"id": "in", "type": "input"},
                 {"id": "a", "type": "llm", "config": {"model": "fast", "prompt_ref": "greet@production",
                                                       "params": {"temperature": 0}}},
                 {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}], chain("in", "a", "out"))
    v1 = PromptTemplate(ref="greet@production", template="hi {{ input.text }}", version_id="1")
    v2 = PromptTemplate(ref="greet@production", template="hi {{ input.text }}", version_id="2")
    _run(doc, model, cache, prompts={"greet@production": v1})
    _run(doc, model, cache, prompts={"greet@production": v1})
    _run(doc, model, cache, prompts={"greet@production": v2})
    assert len(model.calls) == 2


def test_a_fresh_run_asks_the_model_and_still_refreshes_the_cache() -> None:
    model, cache = ScriptedLLM(), MemoryCache()
    doc = _doc(params={"temperature": 0})
    _run(doc, model, cache)
    fresh = _run(doc, model, WriteOnlyCache(cache))
    assert len(model.calls) == 2 and fresh.totals["cache_hits"] == 0
    model.answer = lambda r: "changed"
    fresh = _run(doc, model, WriteOnlyCache(cache))
    assert fresh.output == "changed"
    cached = _run(doc, model, cache)
    assert len(model.calls) == 3 and cached.output == "changed" and cached.totals["cache_hits"] == 1


def test_an_unknown_alias_is_not_looked_up_in_the_cache_and_fails_as_before() -> None:
    class Unknown(ScriptedLLM):
        async def resolved_model(self, alias: str) -> dict[str, Any]:
            from backend.engine.ports import LLMError

            raise LLMError(f"unknown model alias '{alias}'", kind="unknown_model")

    model, cache = Unknown(fail_aliases={"fast"}), MemoryCache()
    result = _run(_doc(params={"temperature": 0}), model, cache)
    assert result.status == "failed" and len(model.calls) == 1 and cache.data == {}
