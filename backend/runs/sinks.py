"""The event sink: the one place that touches both the ORM and the channel layer.

The engine emits events without waiting. The sink queues them and one writer
coroutine per run drains the queue in order: it stores each batch (events,
spans, and the run row on start and finish) in one transaction, then
publishes the batch to the run's channel-layer group. Storing before
publishing is what lets a late websocket client replay from the database and
then follow live without a gap.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from backend.config.storable import without_nul

from .loop import db_call
from .models import Run, RunEvent, Span

log = logging.getLogger(__name__)

SPAN_FIELDS = ["parent_id", "node_id", "kind", "name", "node_type", "status", "started_at", "ended_at",
               "duration_ms", "input", "output", "model", "input_tokens", "output_tokens", "cost_usd",
               "cache_hit", "error", "attributes"]


def run_group(run_id: Any) -> str:
    return f"run-{run_id}"


def _when(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _span_row(run_id: Any, span: dict[str, Any]) -> Span:
    return Span(
        run_id=run_id, span_id=span["span_id"], parent_id=span.get("parent_id") or "",
        node_id=span.get("node_id") or "", kind=span["kind"], name=span["name"],
        node_type=span.get("node_type") or "", status=span["status"], started_at=_when(span["started_at"]),
        ended_at=_when(span.get("ended_at")), duration_ms=span.get("duration_ms"), input=span.get("input"),
        output=span.get("output"), model=span.get("model") or "", input_tokens=span.get("input_tokens") or 0,
        output_tokens=span.get("output_tokens") or 0, cost_usd=span.get("cost_usd") or 0.0,
        cache_hit=bool(span.get("cache_hit")), error=span.get("error") or "", attributes=span.get("attributes") or {},
    )


def persist_events(run_id: Any, events: list[dict[str, Any]]) -> None:
    """Store numbered events, upsert the spans they carry, and keep the run row in step."""
    numbered = [without_nul(e) for e in events if e.get("seq") is not None]  # model text may hold U+0000
    if not numbered:
        return
    spans = {e["span"]["span_id"]: e["span"] for e in numbered if isinstance(e.get("span"), dict)}
    with transaction.atomic():
        RunEvent.objects.bulk_create([RunEvent(run_id=run_id, seq=e["seq"], type=e["type"], payload=e)
                                      for e in numbered])
        if spans:
            Span.objects.bulk_create([_span_row(run_id, s) for s in spans.values()], update_conflicts=True,
                                     unique_fields=["run", "span_id"], update_fields=SPAN_FIELDS)
        for event in numbered:
            if event["type"] == "run.completed":
                totals = event.get("totals") or {}
                Run.objects.filter(pk=run_id).update(
                    status=event["status"], output=event.get("output"), error=event.get("error") or "",
                    finished_at=timezone.now(), input_tokens=totals.get("input_tokens", 0),
                    output_tokens=totals.get("output_tokens", 0), cost_usd=totals.get("cost_usd", 0.0),
                    llm_calls=totals.get("llm_calls", 0), latency_ms=totals.get("duration_ms"),
                )


def _message(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "run.events", "events": events}


class RunEventSink:
    """Implements the engine's ``events`` port for one run."""

    def __init__(self, run_id: Any):
        self.run_id = run_id
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._layer = get_channel_layer()
        self._writer = asyncio.get_running_loop().create_task(self._drain())

    def emit(self, event: dict[str, Any]) -> None:
        self._queue.put_nowait(event)

    async def close(self) -> None:
        """Wait until every emitted event is stored and published."""
        self._queue.put_nowait(None)
        await self._writer

    async def _drain(self) -> None:
        persist = db_call(persist_events)  # survives a connection PostgreSQL dropped (see loop.py)
        closing = False
        while not closing:
            batch = [await self._queue.get()]
            while not self._queue.empty():  # take what has piled up: one transaction per batch
                batch.append(self._queue.get_nowait())
            if batch[-1] is None:
                closing = True
            events = [e for e in batch if e is not None]
            if not events:
                continue
            await persist(self.run_id, events)
            try:
                await self._layer.group_send(run_group(self.run_id), _message(events))
            except Exception:  # Redis restarting: the events are stored; followers replay them from the database
                log.warning("could not publish %d events of run %s", len(events), self.run_id, exc_info=True)


def finish_run_outside_engine(run_id: Any, status: str, error: str, *, expected: str) -> bool:
    """End a run the engine did not end (cancelled while queued, worker lost): store, then publish.

    Only while the run is still in the ``expected`` status (checked under a row lock),
    so a worker that claimed the run meanwhile keeps it. Returns whether it acted.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
        if run is None or run.status != expected:
            return False
        last = RunEvent.objects.filter(run_id=run_id).aggregate(m=Max("seq"))["m"] or 0
        event = {"type": "run.completed", "run_id": str(run_id), "seq": last + 1, "ts": timezone.now().timestamp(),
                 "status": status, "output": None, "error": error, "totals": {}}
        RunEvent.objects.create(run_id=run_id, seq=event["seq"], type=event["type"], payload=event)
        Run.objects.filter(pk=run_id).update(status=status, error=error, finished_at=timezone.now())
    async_to_sync(get_channel_layer().group_send)(run_group(run_id), _message([event]))
    return True
