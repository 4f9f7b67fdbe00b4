"""The sink's rows are prepared column by column from the event and span dicts (trace_writes.json_rows), without
a model instance: each value as Django prepares an instance's for saving, and stored as the engine emitted it.

The reference is what the sink did before: a ``RunEvent``/``Span`` instance per row, then each column's
``get_prep_value(pre_save(instance, True))``.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
import warnings
from typing import Any

import pytest
from django.db import models

from backend.config.storable import may_hold_nul, without_nul
from backend.engine import execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.runs import sinks
from backend.runs.models import Run, RunEvent, Span
from backend.runs.trace_writes import Row, _columns, _plain, _plan, _preparer, _skips_get_prep_value, json_rows

from ..engine.scripted import ScriptedLLM, chain, llm
from .test_retention import graph_of

RUN_ID = "0F8FAD5B-D9CB-469F-A165-70867728950E"  # upper case: stored as the UUID's canonical text
NOW = 1795935245.833069
ODD_TEXT = "naïve — 日本語 🎉 \"quoted\" \\ back\\u0000slash \n\t"


def _reference(model: type[models.Model], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the sink prepared them before: an instance per row, each field's pre_save and get_prep_value."""
    prepared = []
    for row in rows:
        instance = model(**row)
        prepared.append({f.column: _plain(f.get_prep_value(f.pre_save(instance, True))) for f in _columns(model)})
    return list(json.loads(json.dumps(prepared)))


def _same_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """json_rows and the reference agree on every column; ``auto_now_add`` columns are each "now"."""
    before = dt.datetime.now(dt.UTC)
    expected = _reference(model, rows)
    got = json.loads(json_rows(model, [Row(row) for row in rows]))
    after = dt.datetime.now(dt.UTC)
    stamped = [f.column for f in _columns(model) if getattr(f, "auto_now_add", False)]
    for row in got:
        for column in stamped:
            assert before <= dt.datetime.fromisoformat(row[column]) <= after, (column, row[column])
    for row in [*got, *expected]:
        for column in stamped:
            row[column] = "now"
    assert json.dumps(got) == json.dumps(expected)  # text, not ==: 3 == 3.0 and 1 == True, but not as stored
    return list(got)


def _chain_events() -> list[dict[str, Any]]:
    """What the engine emits for input → llm → output, as the sink is given it."""
    doc = {"schema": "patchbay.graph/v1", "name": "s", "nodes": [
        {"id": "in", "type": "input"}, llm("a"), {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
        "edges": chain("in", "a", "out")}
    collected = CollectingEvents()
    asyncio.run(execute_graph(parse_graph(doc), {"text": ODD_TEXT}, ports=Ports(llm=ScriptedLLM(), events=collected),
                              run_id=RUN_ID.lower()))
    return [e for e in collected.events if e["seq"] is not None]


def _odd_spans() -> list[dict[str, Any]]:
    """Spans with every optional value absent or None, and values of other types than the columns'."""
    return [
        {"span_id": "a1", "kind": "node", "name": "a", "status": "running", "started_at": NOW},
        {"span_id": "a2", "parent_id": None, "node_id": None, "kind": "llm", "name": ODD_TEXT, "node_type": None,
         "status": "failed", "started_at": NOW, "ended_at": None, "duration_ms": None, "input": None,
         "output": None, "model": None, "input_tokens": None, "output_tokens": None, "cost_usd": None,
         "cache_hit": None, "error": None, "attributes": None},
        {"span_id": "a3", "parent_id": "a1", "node_id": "qa/answer", "kind": "llm", "name": "llm", "node_type": "llm",
         "status": "succeeded", "started_at": 1.5, "ended_at": NOW + 0.000001, "duration_ms": 12,
         "input": {"messages": [{"role": "user", "content": ODD_TEXT}], "n": 2 ** 62, "f": 1e-300},
         "output": [ODD_TEXT, 0, -1.5, True, None], "model": "gpt-4o-mini", "input_tokens": 2 ** 31 - 1,
         "output_tokens": True, "cost_usd": 3, "cache_hit": "yes", "error": "", "attributes": {"日本": {"k": [1]}}},
    ]


def test_event_rows_are_the_instances_prepared_values() -> None:
    events = _chain_events()
    assert {e["type"] for e in events} >= {"run.started", "node.completed", "span.completed", "run.completed"}
    events.append({"type": "node.delta", "seq": 99, "text": ODD_TEXT, "nested": {"deep": [[[{"x": None}]]]}})
    for run_id in (RUN_ID, uuid.UUID(RUN_ID), RUN_ID.replace("-", "").lower()):
        rows = _same_rows(RunEvent, [dict(run_id=run_id, seq=e["seq"], type=e["type"], payload=e) for e in events])
        assert {r["run_id"] for r in rows} == {RUN_ID.lower()}
    # values of another type than the column's go through get_prep_value as before: int() and str()
    rows = _same_rows(RunEvent, [dict(run_id=RUN_ID, seq=s, type=t, payload={}) for s, t in
                                 ((True, 5), ("7", "x"), (2 ** 40, ODD_TEXT))])
    assert [(r["seq"], r["type"]) for r in rows] == [(1, "5"), (7, "x"), (2 ** 40, ODD_TEXT)]


def test_span_rows_are_the_instances_prepared_values() -> None:
    spans = [e["span"] for e in _chain_events() if isinstance(e.get("span"), dict)]
    assert {s["kind"] for s in spans} >= {"node", "llm"}
    for run_id in (RUN_ID, uuid.UUID(RUN_ID)):
        rows = _same_rows(Span, [dict(sinks._span_row(run_id, s)) for s in [*spans, *_odd_spans()]])
    odd = {r["span_id"]: r for r in rows}
    assert odd["a2"]["ended_at"] is None and odd["a2"]["attributes"] == {} and odd["a2"]["cost_usd"] == 0.0
    assert odd["a3"]["cost_usd"] == 3.0 and isinstance(odd["a3"]["cost_usd"], float)
    assert odd["a3"]["output_tokens"] == 1 and odd["a3"]["cache_hit"] is True
    assert odd["a3"]["started_at"] == "1970-01-01T00:00:01.500000+00:00"


def test_fields_a_row_leaves_out_get_their_defaults() -> None:
    rows = _same_rows(Span, [dict(run_id=RUN_ID, span_id="s", kind="node", name="a", status="running",
                                  started_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))])
    assert rows[0]["parent_id"] == "" and rows[0]["input_tokens"] == 0 and rows[0]["attributes"] == {}
    assert rows[0]["ended_at"] is None and rows[0]["cache_hit"] is False and rows[0]["input"] is None
    _same_rows(RunEvent, [dict(run_id=RUN_ID, seq=1, type="run.started", payload={})])


def test_datetimes_of_every_kind_are_prepared_as_the_field_prepares_them() -> None:
    kinds = [dt.datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC),
             dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
             "2026-05-06T07:08:09.5+02:00", None]
    row = dict(run_id=RUN_ID, span_id="s", kind="node", name="a", status="running", started_at=kinds[0])
    _same_rows(Span, [{**row, "ended_at": when} for when in kinds])
    with warnings.catch_warnings(record=True) as caught:  # a naive one: warned about and made aware, as before
        warnings.simplefilter("always")
        _same_rows(Span, [{**row, "ended_at": dt.datetime(2026, 5, 6, 7, 8, 9)}])
    assert any("naive datetime" in str(w.message) for w in caught)
    field = Span._meta.get_field("ended_at")
    assert isinstance(field, models.Field)
    prepare = _preparer(field)
    for when in kinds[:3]:
        assert prepare(when) == _plain(field.get_prep_value(when))


def test_a_row_naming_no_field_is_refused_as_the_model_refuses_it() -> None:
    with pytest.raises(TypeError):
        RunEvent(run_id=RUN_ID, seq=1, type="x", payload={}, bogus=1)
    with pytest.raises(TypeError, match="bogus"):
        json_rows(RunEvent, [Row(run_id=RUN_ID, seq=1, type="x", payload={}, bogus=1)])
    json_rows(RunEvent, [Row(id=5, run_id=RUN_ID, seq=1, type="x", payload={})])  # the pk is a field: ignored


SAMPLES: dict[type, list[Any]] = {str: ["", "x", ODD_TEXT], int: [0, -1, 7, 2 ** 40], float: [0.0, -1.5, 1e300],
                                  bool: [True, False], type(None): [None], dict: [{}, {"a": [1]}], list: [[], [{}]]}


@pytest.mark.parametrize("model", [RunEvent, Span])
def test_a_skipped_get_prep_value_would_have_returned_the_value_as_it_is(model: type[models.Model]) -> None:
    columns, _ = _plan(model)
    skipped = 0
    for field, column in zip(_columns(model), columns, strict=True):
        assert column.unchanged == _skips_get_prep_value(field)
        for kind in column.unchanged:
            for value in SAMPLES[kind]:
                assert field.get_prep_value(value) is value and _plain(value) is value, (field.name, value)
                skipped += 1
    assert skipped  # the plan does skip calls


def test_may_hold_nul_finds_every_nul_in_json_text() -> None:
    for value in ["a\u0000b", {"k\u0000": 1}, [{"x": ["\u0000"]}]]:
        assert may_hold_nul(json.dumps(value)) and may_hold_nul(json.dumps(value, ensure_ascii=False))
    assert not may_hold_nul(json.dumps([ODD_TEXT.replace("\\u0000", ""), {"日本": 1.5}]))
    assert may_hold_nul(json.dumps("\\u0000"))  # a backslash and u0000: a false alarm, never a miss


@pytest.mark.django_db
def test_stored_rows_read_back_as_the_engine_emitted_them(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = graph_of(alice_api)
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                             input={}, trace_id="c" * 32, status="running")
    events = _chain_events()
    *steps, end = events
    for event in steps:
        event["run_id"] = str(run.pk)
    emitted = [*steps, *({"type": "span.completed", "seq": len(steps) + n, "span": span}
                         for n, span in enumerate(_odd_spans(), 1))]
    emitted[-1]["span"]["output"] = ["model text \u0000 with a NUL", {"k\u0000": ODD_TEXT}]
    kept = json.loads(json.dumps(emitted))  # what was emitted, before the sink had it
    before = dt.datetime.now(dt.UTC)
    assert sinks.persist_events(str(run.pk), emitted)
    assert sinks.persist_events(run.pk, [{**end, "seq": len(emitted) + 1, "run_id": str(run.pk)}])
    assert json.loads(json.dumps(emitted)) == kept, "the sink does not change the events it publishes"

    stored = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.payload for e in stored[:-1]] == without_nul(kept)
    assert stored[-2].payload["span"]["output"] == ["model text \ufffd with a NUL", {"k\ufffd": ODD_TEXT}]
    assert [(e.seq, e.type) for e in stored[:-1]] == [(e["seq"], e["type"]) for e in kept]
    assert all(before <= e.created_at <= dt.datetime.now(dt.UTC) for e in stored)

    spans = {e["span"]["span_id"]: without_nul(e["span"]) for e in kept if isinstance(e.get("span"), dict)}
    assert len(spans) >= 5
    for span in Span.objects.filter(run=run):
        emitted_span = spans.pop(span.span_id)
        expected = Span(**sinks._span_row(run.pk, emitted_span))  # the values the sink's instance held before
        for field in _columns(Span):
            got, want = getattr(span, field.attname), getattr(expected, field.attname)
            assert got == want, (field.name, got, want)
        assert abs(span.started_at.timestamp() - emitted_span["started_at"]) < 1e-6  # to the microsecond
        assert span.output == emitted_span.get("output") and span.input == emitted_span.get("input")
    assert not spans
    # the row's text is stored exactly: a backslash before u0000 is text, not a NUL, and stays
    odd = Span.objects.get(run=run, span_id="a3")
    assert odd.input["messages"][0]["content"] == ODD_TEXT and odd.name == "llm" and odd.cost_usd == 3.0
    assert odd.input["n"] == 2 ** 62 and odd.output_tokens == 1 and odd.cache_hit is True
    assert isinstance(odd.duration_ms, float) and odd.duration_ms == 12
