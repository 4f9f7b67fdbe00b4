"""The sink cannot lose a run: refused writes, dropped connections, a dead channel layer, a late end.

These run the real execution path (claim, engine, sink) in this process on the real
PostgreSQL test database and Redis, with a scripted model so the test controls timing
and can count the calls. Faults are real: PostgreSQL refuses a value, PostgreSQL
drops the connection (pg_terminate_backend), the channel layer points at a closed port.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from unittest import mock

import psycopg
import pytest
from channels_redis.core import RedisChannelLayer
from django.db import connection, connections
from django.db.backends import utils as db_utils

from backend.engine.ports import LLMRequest, LLMResult
from backend.graphs.models import Graph
from backend.runs import execution, sinks
from backend.runs.liveness import WORKER_LOST
from backend.runs.models import Run, RunEvent, Span
from backend.runs.sinks import RunEventSink, finish_run_outside_engine, persist_events
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

CALL_SECONDS = 0.3


def llm(node_id: str) -> dict[str, Any]:
    return {"id": node_id, "type": "llm", "config": {"model": "fast", "prompt": f"{node_id}: {{{{ input.text }}}}"}}


# input → a → b → c → output: three model calls, one after another.
THREE_CALLS = {
    "schema": "patchbay.graph/v1", "name": "three-calls", "inputs": {"type": "object"},
    "nodes": [{"id": "in", "type": "input"}, llm("a"), llm("b"), llm("c"),
              {"id": "out", "type": "output", "config": {"value": "{{ nodes.c.output }}"}}],
    "edges": [{"from": "in", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "c"},
              {"from": "c", "to": "out"}],
}


class ScriptedModel:
    """Answers every call after CALL_SECONDS; records which node called, and whether the call finished."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []

    async def complete(self, request: LLMRequest, on_delta: Any = None) -> LLMResult:
        node = request.messages[-1]["content"].split(":")[0]
        self.started.append(node)
        await asyncio.sleep(CALL_SECONDS)
        self.finished.append(node)
        return LLMResult(text=f"answer from {node}", model="scripted", input_tokens=1, output_tokens=1,
                         cost_usd=0.0)

    async def estimate_cost(self, request: LLMRequest) -> float:
        return 0.0

    async def resolved_model(self, alias: str) -> dict[str, Any]:
        return {"model": f"scripted/{alias}"}


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    scripted = ScriptedModel()
    monkeypatch.setattr(execution, "LiteLLMGateway", lambda resolve, **_: scripted)
    return scripted


@pytest.fixture
def queued_run(alice, alice_api) -> Run:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/", {"spec": THREE_CALLS}, format="json")
    assert response.status_code == 201, response.json()
    graph = Graph.objects.get(pk=response.json()["id"])
    # Made directly, not through the API: nothing is enqueued, so only this test executes it.
    return Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                              input={"text": "hello"}, trace_id="d" * 32)


def execute(run: Run, *, db_threads: int = 4) -> None:
    """Execute the run here as a worker would; returns how long it took. ``db_threads``=1 puts every
    database call on one thread (one connection), so a broken connection is only left by closing it."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(db_threads))
        try:
            await execution.execute_run_async(run.pk)
        finally:  # close each database thread's connection, so the test database can be dropped
            everyone = threading.Barrier(db_threads)

            def close() -> None:
                everyone.wait(timeout=10)
                connections.close_all()

            await asyncio.gather(*(loop.run_in_executor(None, close) for _ in range(db_threads)))

    asyncio.run(main())


@contextmanager
def statements_run() -> Iterator[list[tuple[str, bool]]]:
    """Every SQL statement Django's cursors run meanwhile, with whether an atomic block (a transaction) held it."""
    seen: list[tuple[str, bool]] = []
    run_sql = db_utils.CursorWrapper._execute

    def recorded(self: Any, sql: str, *args: Any) -> Any:
        seen.append((sql, connection.in_atomic_block))
        return run_sql(self, sql, *args)

    with mock.patch.object(db_utils.CursorWrapper, "_execute", recorded):
        yield seen


def stored_events(run: Run) -> list[dict[str, Any]]:
    return [e.payload for e in RunEvent.objects.filter(run=run).order_by("seq")]


def test_a_write_postgresql_refuses_fails_the_run_with_the_reason_and_stops_the_engine(  # type: ignore[no-untyped-def]
        monkeypatch, model, queued_run) -> None:
    real_row = sinks._span_row

    def refused_for_b(run_id: Any, span: dict[str, Any]) -> Span:
        row = real_row(run_id, span)
        if span.get("node_id") == "b" and span["kind"] == "llm":
            row.status = "s" * 30  # varchar(20): PostgreSQL refuses it (DataError), as it would any value too long
        return row

    monkeypatch.setattr(sinks, "_span_row", refused_for_b)
    execute(queued_run)

    run = Run.objects.get(pk=queued_run.pk)
    assert run.status == "failed" and run.finished_at is not None
    assert run.error.startswith("could not store the run's trace: value too long for type character varying(20)")
    assert "span.completed event of node 'b'" in run.error
    events = stored_events(run)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "stored events stay contiguous"
    assert events[-1]["type"] == "run.completed" and events[-1]["status"] == "failed"
    assert events[-1]["error"] == run.error, "the reason is in the trace, not only on the run row"
    kept = [(e["type"], e.get("node_id")) for e in events]
    assert ("node.completed", "a") in kept and ("node.started", "b") in kept, "events stored before are kept"
    assert not any(e["type"] == "span.completed" and e["span"]["node_id"] == "b" for e in events)
    # The engine was stopped (the run ended at the failure, not after the whole graph): c's call, if it started
    # before the sink noticed, never finished.
    assert model.finished == ["a", "b"]


def test_a_dropped_database_connection_is_retried_and_the_run_succeeds(  # type: ignore[no-untyped-def]
        monkeypatch, model, queued_run) -> None:
    real_persist = sinks.persist_events
    drops = {"left": 3, "seen": 0}

    def dropped_then_stored(run_id: Any, events: list[dict[str, Any]]) -> bool:
        if drops["left"]:
            drops["left"] -= 1
            connection.ensure_connection()
            pid = connection.connection.info.backend_pid
            db = connection.settings_dict
            with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                                 dbname=db["NAME"], autocommit=True) as admin:
                admin.execute("select pg_terminate_backend(%s)", [pid])  # as a PostgreSQL restart would
        try:
            return real_persist(run_id, events)
        except Exception:
            drops["seen"] += 1
            raise

    monkeypatch.setattr(sinks, "persist_events", dropped_then_stored)
    execute(queued_run, db_threads=1)

    run = Run.objects.get(pk=queued_run.pk)
    # Three backends were killed under the sink. Each is met either by Django's health check (a fresh
    # connection before the query, as recovering() arranges) or by a real error and the sink's retry.
    assert drops["left"] == 0 and drops["seen"] <= 3
    assert run.status == "succeeded", run.error
    assert run.output == "answer from c"
    events = stored_events(run)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.completed"
    assert model.finished == ["a", "b", "c"]


def test_a_database_that_stays_away_fails_the_run_once_the_retry_bound_passes(  # type: ignore[no-untyped-def]
        monkeypatch, model, queued_run) -> None:
    from django.db import OperationalError

    real_persist = sinks.persist_events
    first_batch: list[str] = []

    def down_after_start(run_id: Any, events: list[dict[str, Any]]) -> bool:
        if first_batch:  # the first batch (the run's start, and what came with it) is stored; then it is gone
            raise OperationalError("connection to server failed: Connection refused")
        first_batch.extend(e["type"] for e in events)
        return real_persist(run_id, events)

    monkeypatch.setattr(sinks, "persist_events", down_after_start)
    monkeypatch.setattr(sinks, "STORE_RETRY_SECONDS", 0.6)
    execute(queued_run)

    run = Run.objects.get(pk=queued_run.pk)
    assert run.status == "failed"
    assert run.error.startswith("could not store the run's trace: the database stayed unreachable for 0.6 s")
    events = stored_events(run)
    assert first_batch[0] == "run.started" and "run.completed" not in first_batch
    assert [e["type"] for e in events] == [*first_batch, "run.completed"]
    assert len(model.finished) < 3, "the engine stopped when the run could no longer be recorded"


def test_a_channel_layer_that_fails_does_not_stop_the_sink(monkeypatch, model, queued_run) -> None:  # type: ignore[no-untyped-def]
    dead_layer = RedisChannelLayer(hosts=[{"address": f"redis://127.0.0.1:{free_port()}"}])  # nothing listens
    monkeypatch.setattr(sinks, "get_channel_layer", lambda: dead_layer)
    execute(queued_run)

    run = Run.objects.get(pk=queued_run.pk)
    assert run.status == "succeeded", run.error
    events = stored_events(run)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {("node.completed", n) for n in ("a", "b", "c")} <= {(e["type"], e.get("node_id")) for e in events}


def test_a_late_run_completed_does_not_overwrite_a_run_the_sweep_failed(queued_run) -> None:  # type: ignore[no-untyped-def]
    Run.objects.filter(pk=queued_run.pk).update(status="running")
    persist_events(queued_run.pk, [{"type": "run.started", "seq": 1, "run_id": str(queued_run.pk), "ts": 0}])
    assert finish_run_outside_engine(queued_run.pk, "failed", WORKER_LOST, expected="running")

    late = {"type": "run.completed", "seq": 2, "status": "succeeded", "output": "late", "error": None,
            "totals": {"input_tokens": 9}}
    assert persist_events(queued_run.pk, [late]) is False
    run = Run.objects.get(pk=queued_run.pk)
    assert (run.status, run.error, run.output, run.input_tokens) == ("failed", WORKER_LOST, None, 0)
    assert [(e["seq"], e["status"]) for e in stored_events(run) if e["type"] == "run.completed"] == [(2, "failed")]


def test_a_sink_whose_run_was_swept_stops_the_engine(queued_run) -> None:  # type: ignore[no-untyped-def]
    Run.objects.filter(pk=queued_run.pk).update(status="running")
    finish_run_outside_engine(queued_run.pk, "failed", WORKER_LOST, expected="running")

    async def main() -> asyncio.Task[None]:
        engine = asyncio.get_running_loop().create_task(asyncio.sleep(30))
        sink = RunEventSink(queued_run.pk)
        sink.stops(engine)
        sink.emit({"type": "node.started", "seq": 2, "node_id": "a"})
        await sink.close()
        await asyncio.gather(engine, return_exceptions=True)
        return engine

    engine = asyncio.run(main())
    assert engine.cancelled(), "a run that ended elsewhere makes no more model calls"
    assert Run.objects.get(pk=queued_run.pk).status == "failed"
    assert [e["type"] for e in stored_events(queued_run)] == ["run.completed"]
