"""The engine's spans and events hold to span.json and events.json (backend/engine/shapes/), the one definition
the API, the OpenAPI document and the canvas read too. A field added to trace.Span or an event without the schema
(or the other way round) fails here."""
from __future__ import annotations

import asyncio
from typing import Any

from backend.engine import execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.schemas import schema_errors
from backend.engine.shapes import event_types, events_schema, span_schema
from backend.engine.trace import PERSISTED_EVENTS, Span

from .scripted import ScriptedLLM, chain, graph, llm

INPUT = {"id": "in", "type": "input"}
OUT = {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}


def events_of(doc: dict[str, Any], model: ScriptedLLM) -> list[dict[str, Any]]:
    events = CollectingEvents()
    asyncio.run(execute_graph(parse_graph(doc), {"text": "hey there"}, ports=Ports(llm=model, events=events)))
    return events.events


def runs_of_every_kind() -> list[dict[str, Any]]:
    streamed = graph([INPUT, llm("a", stream=True), OUT], chain("in", "a", "out"))
    gate = {"id": "g", "type": "gate", "config": {
        "check": {"kind": "regex", "value": "{{ nodes.a.output }}", "pattern": "^yes"}, "message": "stopped"}}
    gated = graph([INPUT, llm("a"), gate, llm("b"), {"id": "out", "type": "output", "config": {"value": "x"}}],
                  [*chain("in", "a", "g"), {"from": "g", "port": "pass", "to": "b"}, {"from": "b", "to": "out"}])
    return [*events_of(streamed, ScriptedLLM()), *events_of(gated, ScriptedLLM(answer=lambda r: "no")),
            *events_of(streamed, ScriptedLLM(fail_aliases={"fast"}))]


def test_every_event_the_engine_emits_matches_events_json() -> None:
    schema = events_schema()
    events = runs_of_every_kind()
    for event in events:
        assert [e.message for e in schema_errors(schema, event)] == [], event
    seen = {e["type"] for e in events}
    assert seen <= set(event_types()), f"events.json lacks {seen - set(event_types())}"
    assert {"run.started", "node.started", "node.delta", "node.completed", "node.failed", "node.skipped",
            "span.completed", "run.completed"} <= seen


def test_events_json_defines_every_engine_event_type() -> None:
    assert {*PERSISTED_EVENTS, "node.delta"} <= set(event_types())


def test_the_engine_span_has_exactly_span_json_fields() -> None:
    span = Span(span_id="0123456789abcdef", trace_id="t" * 32, kind="node", name="a", node_id="a")
    assert set(span.to_dict()) == set(span_schema()["properties"])
    assert [e.message for e in schema_errors(span_schema(), span.to_dict())] == []


def test_a_span_missing_a_field_or_with_an_extra_one_is_refused() -> None:
    """The schema is strict enough to catch drift both ways."""
    good = Span(span_id="0123456789abcdef", trace_id="t", kind="llm", name="a", node_id="a").to_dict()
    assert schema_errors(span_schema(), {k: v for k, v in good.items() if k != "cost_usd"})
    assert schema_errors(span_schema(), {**good, "latency": 3})
