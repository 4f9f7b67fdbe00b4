"""A run's last batch and its end are one statement: the trace and the run row commit together, the end is
written only from ``running`` (under the row lock), and the end is announced and its hook fired once.

On PostgreSQL, with the queued run of test_sink_failures.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from backend.runs import finished
from backend.runs.models import Run, RunEvent, Span
from backend.runs.sinks import persist_events

from .test_sink_failures import queued_run, statements_run, stored_events  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

TOTALS = {"input_tokens": 30, "output_tokens": 12, "cost_usd": 0.25, "llm_calls": 3, "duration_ms": 312.5,
          "cache_hits": 1, "saved_usd": 0.1, "saved_ms": 40.0}


def _end_batch() -> list[dict[str, Any]]:
    now = time.time()
    span = {"span_id": "s1", "kind": "node", "name": "out", "node_id": "out", "status": "succeeded",
            "started_at": now, "ended_at": now + 0.01, "output": "done"}
    return [{"type": "node.completed", "seq": 1, "span": span},
            {"type": "run.completed", "seq": 2, "status": "succeeded", "output": {"answer": 42}, "error": None,
             "totals": TOTALS}]


def _announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    said: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(finished, "announce_end", lambda run_id, fields: said.append((str(run_id), fields)))
    return said


def test_the_last_batch_and_the_end_are_one_statement_that_commits_on_its_own(  # type: ignore[no-untyped-def]
        queued_run: Run, monkeypatch) -> None:  # noqa: F811 (the fixture imported above)
    Run.objects.filter(pk=queued_run.pk).update(status="running")
    said = _announced(monkeypatch)
    with statements_run() as seen:
        assert persist_events(queued_run.pk, _end_batch())

    assert not seen[0][1] and "runs_runevent" in seen[0][0] and "ended AS (UPDATE" in seen[0][0], seen[0]
    assert not any(sql.startswith("UPDATE \"runs_run\" SET \"status\"") for sql, _ in seen[1:])  # no second end
    run = Run.objects.get(pk=queued_run.pk)
    assert (run.status, run.output, run.error) == ("succeeded", {"answer": 42}, "")
    assert (run.llm_calls, run.input_tokens, run.cost_usd, run.latency_ms, run.cache_hits) == (3, 30, 0.25, 312.5, 1)
    assert run.finished_at is not None and run.finish_notified  # the hook fired, on the statement's commit
    assert [e["seq"] for e in stored_events(run)] == [1, 2]
    assert Span.objects.get(run=run, span_id="s1").status == "succeeded"
    assert len(said) == 1 and said[0][0] == str(run.pk) and said[0][1]["status"] == "succeeded"


def test_an_end_batch_for_a_run_ended_elsewhere_stores_nothing_and_moves_nothing(  # type: ignore[no-untyped-def]
        queued_run: Run, monkeypatch) -> None:  # noqa: F811 (the fixture imported above)
    said = _announced(monkeypatch)
    Run.objects.filter(pk=queued_run.pk).update(status="running")
    holding, done = threading.Event(), threading.Event()

    def finisher() -> None:  # as the sweep or a cancel: lock the row, then end the run
        try:
            with transaction.atomic():
                Run.objects.select_for_update().get(pk=queued_run.pk)
                holding.set()
                done.wait(0.5)  # the batch below runs meanwhile and waits for the lock (or comes after: same end)
                Run.objects.filter(pk=queued_run.pk).update(status="cancelled", error="stopped")
        finally:
            connection.close()

    thread = threading.Thread(target=finisher)
    thread.start()
    holding.wait(10)
    stored = persist_events(queued_run.pk, _end_batch())
    thread.join()
    assert stored is False
    run = Run.objects.get(pk=queued_run.pk)
    assert (run.status, run.error, run.output, run.llm_calls) == ("cancelled", "stopped", None, 0)
    assert not RunEvent.objects.filter(run=queued_run).exists() and not Span.objects.filter(run=queued_run).exists()
    assert said == [] and not run.finish_notified


def test_publishes_follow_their_stores_in_order_without_holding_up_the_next_store(  # type: ignore[no-untyped-def]
        monkeypatch) -> None:
    import asyncio

    from backend.runs import sinks

    log: list[tuple[str, int]] = []

    def stored(run_id: Any, events: list[dict[str, Any]]) -> bool:
        log.append(("stored", events[0]["seq"]))
        return True

    class SlowLayer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            seq = message["events"][0]["seq"]
            log.append(("publishing", seq))
            await asyncio.sleep(0.2 if seq == 1 else 0.0)  # the first publish is slow
            log.append(("published", seq))

    monkeypatch.setattr(sinks, "persist_events", stored)
    monkeypatch.setattr(sinks, "get_channel_layer", SlowLayer)
    monkeypatch.setattr(sinks, "BATCH_WINDOW_S", 0.0)

    async def main() -> None:
        sink = sinks.RunEventSink("r1")
        for seq in (1, 2, 3):
            sink.emit({"type": "node.started", "seq": seq})
            await asyncio.sleep(0.02)  # a batch each
        await sink.close()  # returns once every batch is stored and published

    asyncio.run(main())
    assert [s for what, s in log if what == "stored"] == [1, 2, 3]
    assert [s for what, s in log if what == "published"] == [1, 2, 3]  # in order, the slow one first
    assert all(log.index(("stored", s)) < log.index(("publishing", s)) for s in (1, 2, 3))  # stored, then published
    assert log.index(("stored", 3)) < log.index(("published", 1))  # the stores went on meanwhile
    assert log[-1] == ("published", 3)
