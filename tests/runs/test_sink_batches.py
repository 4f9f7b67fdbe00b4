"""The sink stores a run in few transactions: one per step, not one per event, and the run's end at once.

Real claim, engine and sink in this process on PostgreSQL and Redis, with the scripted model of
test_sink_failures (its calls take CALL_SECONDS, far longer than the sink's batching window).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from django.db.backends import utils as db_utils

from backend.runs import sinks
from backend.runs.models import Run
from backend.runs.sinks import RunEventSink

from .test_sink_failures import (  # noqa: F401
    ScriptedModel,
    execute,
    model,
    queued_run,
    statements_run,
    stored_events,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The event types of every batch the sink stores, in order."""
    seen: list[list[str]] = []
    store = sinks.persist_events

    def recorded(run_id: Any, events: list[dict[str, Any]]) -> bool:
        seen.append([e["type"] for e in events])
        return store(run_id, events)

    monkeypatch.setattr(sinks, "persist_events", recorded)
    return seen


def test_each_step_is_stored_in_one_transaction_with_the_next_steps_start(  # type: ignore[no-untyped-def]
        monkeypatch, model: ScriptedModel, queued_run: Run) -> None:  # noqa: F811 (the fixtures imported above)
    batches = _batches(monkeypatch)
    monkeypatch.setattr(sinks, "BATCH_WINDOW_S", 0.1)  # a loaded machine's slow loop turns fit in it
    execute(queued_run)

    run = Run.objects.get(pk=queued_run.pk)
    assert run.status == "succeeded", run.error
    assert batches == [
        ["run.started", "node.started", "node.completed", "node.started"],  # input done, a started
        ["span.completed", "node.completed", "node.started"],  # a's model call and a done, b started
        ["span.completed", "node.completed", "node.started"],
        ["span.completed", "node.completed", "node.started", "node.completed", "run.completed"],
    ]
    events = stored_events(run)  # every event kept, numbered without a gap
    assert [e["seq"] for e in events] == list(range(1, sum(map(len, batches)) + 1))


def test_the_claim_is_one_transaction_that_writes_the_run_row_once(  # type: ignore[no-untyped-def]
        monkeypatch, model: ScriptedModel, queued_run: Run) -> None:  # noqa: F811 (the fixtures imported above)
    statements: list[str] = []
    run_sql = db_utils.CursorWrapper._execute

    def recorded(self: Any, sql: str, *args: Any) -> Any:
        statements.append(sql)
        return run_sql(self, sql, *args)

    monkeypatch.setattr(db_utils.CursorWrapper, "_execute", recorded)
    execute(queued_run)

    run = Run.objects.get(pk=queued_run.pk)
    assert run.status == "succeeded" and run.resolved["models"] == {"fast": "demo/fast"}
    first_event = next(i for i, sql in enumerate(statements) if "runs_runevent" in sql)
    claim = [sql for sql in statements[:first_event] if "runs_run\"" in sql or "runs_run " in sql]
    writes = [sql for sql in claim if sql.startswith("UPDATE")]
    assert len(writes) == 1 and all(f'"{c}"' in writes[0] for c in ("status", "started_at", "resolved")), claim


def test_a_runs_last_event_is_written_without_waiting_out_the_window(  # type: ignore[no-untyped-def]
        queued_run: Run, monkeypatch) -> None:  # noqa: F811 (the fixture imported above)
    batches = _batches(monkeypatch)
    monkeypatch.setattr(sinks, "BATCH_WINDOW_S", 30.0)
    Run.objects.filter(pk=queued_run.pk).update(status="running")

    async def main() -> float:
        sink = RunEventSink(queued_run.pk)
        sink.emit({"type": "run.started", "seq": 1, "run_id": str(queued_run.pk), "ts": 0})
        await asyncio.sleep(0.05)  # the writer now waits for more
        started = time.monotonic()
        sink.emit({"type": "run.completed", "seq": 2, "status": "succeeded", "output": "done", "error": None,
                   "totals": {}})
        await sink.close()
        return time.monotonic() - started

    took = asyncio.run(main())
    assert took < 10, "the run's end waited out the batching window"
    assert batches == [["run.started", "run.completed"]]
    assert Run.objects.get(pk=queued_run.pk).status == "succeeded"


def test_a_batch_of_many_rows_is_stored_whole_in_order_and_a_resent_span_is_updated(  # type: ignore[no-untyped-def]
        queued_run: Run) -> None:  # noqa: F811 (the fixture imported above)
    from backend.runs.models import RunEvent, Span
    from backend.runs.sinks import persist_events

    Run.objects.filter(pk=queued_run.pk).update(status="running")
    now = time.time()

    def span(n: int, status: str) -> dict[str, Any]:
        return {"span_id": f"s{n}", "kind": "llm", "name": "llm", "node_id": f"n{n}", "status": status,
                "started_at": now, "ended_at": now + 1, "output": {"n": n}, "attributes": {"k": [n]}}

    assert persist_events(queued_run.pk, [{"type": "node.started", "seq": n, "span": span(n, "running")}
                                          for n in range(1, 6)])
    assert persist_events(queued_run.pk, [{"type": "node.completed", "seq": 6, "span": span(3, "succeeded")}])
    assert [e["seq"] for e in stored_events(queued_run)] == [1, 2, 3, 4, 5, 6]
    # rows are inserted in the batch's order (ids follow seq), though they travel as one JSON document
    assert list(RunEvent.objects.filter(run=queued_run).order_by("id").values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    stored = {s.span_id: s for s in Span.objects.filter(run=queued_run)}
    assert sorted(stored) == ["s1", "s2", "s3", "s4", "s5"]
    assert stored["s3"].status == "succeeded" and stored["s1"].status == "running"
    assert stored["s5"].output == {"n": 5} and stored["s5"].attributes == {"k": [5]}


def test_a_batch_of_trace_only_is_one_statement_that_commits_on_its_own(  # type: ignore[no-untyped-def]
        queued_run: Run) -> None:  # noqa: F811 (the fixture imported above)
    from backend.runs.sinks import persist_events

    Run.objects.filter(pk=queued_run.pk).update(status="running")
    span = {"span_id": "s1", "kind": "node", "name": "a", "node_id": "a", "status": "running", "started_at": 1.5}
    with statements_run() as seen:
        assert persist_events(queued_run.pk, [{"type": "run.started", "seq": 1},
                                              {"type": "node.started", "seq": 2, "span": span}])
    assert len(seen) == 1 and not seen[0][1], seen  # no BEGIN/COMMIT around it: autocommit
    assert [e["seq"] for e in stored_events(queued_run)] == [1, 2]


def test_a_batch_waits_for_a_finisher_holding_the_run_row_then_stores_nothing(  # type: ignore[no-untyped-def]
        queued_run: Run) -> None:  # noqa: F811 (the fixture imported above)
    import threading

    from django.db import connection, transaction

    from backend.runs.models import RunEvent, Span
    from backend.runs.sinks import persist_events

    Run.objects.filter(pk=queued_run.pk).update(status="running")
    holding, done = threading.Event(), threading.Event()

    def finisher() -> None:  # as the sweep's finish_run_outside_engine: lock the row, then end the run
        try:
            with transaction.atomic():
                Run.objects.select_for_update().get(pk=queued_run.pk)
                holding.set()
                done.wait(0.5)  # the batch below runs meanwhile and waits for the lock (or comes after: same end)
                Run.objects.filter(pk=queued_run.pk).update(status="failed")
        finally:
            connection.close()

    thread = threading.Thread(target=finisher)
    thread.start()
    holding.wait(10)
    span = {"span_id": "s1", "kind": "node", "name": "a", "status": "running", "started_at": 1.0}
    stored = persist_events(queued_run.pk, [{"type": "node.started", "seq": 1, "span": span}])
    thread.join()
    assert stored is False  # it read the row as the finisher left it
    assert not RunEvent.objects.filter(run=queued_run).exists() and not Span.objects.filter(run=queued_run).exists()
