"""The span and event shapes, one JSON Schema file each (span.json, events.json), and what is derived from them.

Everything else reads these: the run serializers (which span fields to write), the OpenAPI document (as
components), the API (served at /api/schemas/), the canvas (its zod schemas are checked against them) and
the tests that hold the engine's events to them. Django-free.
"""
from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def span_schema() -> dict[str, Any]:
    """span.json (a fresh copy: callers may change it)."""
    return copy.deepcopy(_load("span.json"))


def events_schema() -> dict[str, Any]:
    """events.json with span.json bundled in as ``#/$defs/Span``: one self-contained document."""
    schema = copy.deepcopy(_load("events.json"))
    span = span_schema()
    for key in ("$schema", "$id"):
        span.pop(key, None)
    schema["$defs"]["Span"] = span
    return schema


def span_fields() -> tuple[str, ...]:
    """The span's fields in the REST API: every property of span.json but the engine-only trace_id."""
    return tuple(name for name in _load("span.json")["properties"] if name != "trace_id")


def event_types() -> dict[str, str]:
    """Each ``type`` value to the name of its definition in events.json, e.g. "run.started" → "RunStartedEvent"."""
    defs = _load("events.json")["$defs"]
    return {sub["properties"]["type"]["const"]: name for name, sub in defs.items()
            if "const" in sub.get("properties", {}).get("type", {})}


# The OpenAPI document has called the span ``SpanOut`` since it had one: clients generated from it keep the name.
COMPONENT_NAMES = {"Span": "SpanOut"}


def openapi_components() -> dict[str, dict[str, Any]]:
    """The shapes as OpenAPI 3.1 components: ``SpanOut``, ``RunEvent`` and each event, refs pointed at components."""
    events = events_schema()
    defs = events.pop("$defs")
    components = {COMPONENT_NAMES.get(name, name): _component(sub) for name, sub in defs.items()}
    events.pop("$schema", None)
    events.pop("$id", None)
    components["RunEvent"] = _component(events)
    return components


def _component(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: (_component_ref(value) if key == "$ref" and isinstance(value, str) else _component(value))
                for key, value in schema.items() if key not in ("$schema", "$id")}
    if isinstance(schema, list):
        return [_component(item) for item in schema]
    return schema


def _component_ref(ref: str) -> str:
    name = ref.removeprefix("#/$defs/")
    return "#/components/schemas/" + COMPONENT_NAMES.get(name, name)
