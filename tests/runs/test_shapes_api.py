"""The API serves span.json and events.json, and its serializers and OpenAPI document follow them.

A field added to the run serializer's spans, or to the OpenAPI document's span, without the schema fails here.
"""
from __future__ import annotations

import asyncio

import pytest
from rest_framework.test import APIClient

from backend.engine import execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.schemas import schema_errors
from backend.engine.shapes import events_schema, openapi_components, span_schema
from backend.runs.models import Run
from backend.runs.sinks import persist_events

from ..engine.scripted import ScriptedLLM, chain, llm
from .test_retention import graph_of

pytestmark = pytest.mark.django_db


def test_the_schemas_are_served_to_anyone_as_their_files() -> None:
    anonymous = APIClient()
    span = anonymous.get("/api/schemas/span.json")
    assert span.status_code == 200 and span.json() == span_schema()
    events = anonymous.get("/api/schemas/events.json")
    assert events.status_code == 200 and events.json() == events_schema()
    assert events.json()["$defs"]["Span"]["required"] == span_schema()["required"]


def test_what_the_engine_records_reads_back_from_the_api_in_the_schemas_shape(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    """Engine → sink → /api/runs/<id>/ and /events/: the spans and events the canvas reads, checked against the files."""
    graph = graph_of(alice_api)
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                             input={"text": "hey"}, trace_id="c" * 32, status="running")
    doc = {"schema": "patchbay.graph/v1", "name": "s", "nodes": [
        {"id": "in", "type": "input"}, llm("a"), {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
        "edges": chain("in", "a", "out")}
    collected = CollectingEvents()
    asyncio.run(execute_graph(parse_graph(doc), {"text": "hey"}, ports=Ports(llm=ScriptedLLM(), events=collected),
                              run_id=str(run.pk)))
    persist_events(run.pk, [e for e in collected.events if e["seq"] is not None])

    body = alice_api.get(f"/api/runs/{run.pk}/").json()
    assert body["status"] == "succeeded" and len(body["spans"]) >= 4
    for span in body["spans"]:
        assert [e.message for e in schema_errors(span_schema(), span)] == [], span
        assert set(span) == set(span_schema()["required"]), "the serializer and span.json disagree"
    events = alice_api.get(f"/api/runs/{run.pk}/events/").json()
    assert [e["type"] for e in events][-1] == "run.completed"
    for event in events:
        assert [e.message for e in schema_errors(events_schema(), event)] == [], event


def test_the_openapi_document_takes_the_shapes_from_the_schema_files(alice_api) -> None:  # type: ignore[no-untyped-def]
    doc = alice_api.get("/api/schema/?format=json").json()
    components = doc["components"]["schemas"]
    for name, schema in openapi_components().items():
        assert components[name] == schema, f"OpenAPI component {name} drifted from backend/engine/shapes/"
    detail = components["RunDetailOut"]["properties"]["spans"]
    assert detail["items"] == {"$ref": "#/components/schemas/SpanOut"}
    listing = doc["paths"]["/api/runs/{run_id}/events/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"]["items"] == {"$ref": "#/components/schemas/RunEvent"}
