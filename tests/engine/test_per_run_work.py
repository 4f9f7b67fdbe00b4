"""Work the engine now does once instead of per run (bench/worker_runtime.py) still gives per-run answers."""
from __future__ import annotations

import re

import pytest

from backend.engine.schemas import schema_errors
from backend.engine.template_limits import RenderCancelled, RenderGuard
from backend.engine.trace import new_id


def test_a_validator_is_found_by_the_schemas_content_not_by_the_object() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert schema_errors(schema, {"n": 1}) == []
    assert schema_errors(dict(schema), {"n": "one"})  # an equal copy: the same answer
    schema["properties"] = {"n": {"type": "string"}}  # the caller changes its schema: the new one applies
    assert schema_errors(schema, {"n": "one"}) == []
    assert schema_errors(schema, {"n": 1})


def test_a_schema_changed_after_it_was_kept_does_not_change_the_kept_validator() -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "maxItems": 2}
    assert schema_errors(schema, [1, 2]) == []
    schema["maxItems"] = 1  # the validator kept for the first text holds its own copy
    assert schema_errors({"type": "array", "items": {"type": "integer"}, "maxItems": 2}, [1, 2]) == []
    assert schema_errors(schema, [1, 2])


def test_errors_come_in_the_schemas_key_order() -> None:
    first = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    second = {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}}}
    value = {"a": 1, "b": 2}
    assert [e.path[0] for e in schema_errors(first, value)] == ["a", "b"]
    assert [e.path[0] for e in schema_errors(second, value)] == ["b", "a"]


def test_span_ids_are_16_hex_digits_and_differ() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)


def test_a_cancelled_render_guard_stops_at_its_next_check() -> None:
    guard = RenderGuard()
    guard.check_time()
    guard.cancelled.set()
    with pytest.raises(RenderCancelled):
        guard.check_time()
