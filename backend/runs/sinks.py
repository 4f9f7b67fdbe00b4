"""The event sink: the one place that touches both the ORM and the channel layer.

The engine emits events without waiting. The sink queues them and one writer
coroutine per run drains the queue in order: it stores each batch (the events
emitted within BATCH_WINDOW_S of each other, typically one step's end and the
next one's start; a run's last events at once), with their spans and the run
row on start and finish, in one transaction (one statement: trace_writes.store_batch,
or store_batch_and_end for the engine's end; a transaction when the batch parks the
run or asks for an approval), then publishes the batch to the run's channel-layer
group. Storing before publishing is what lets a late websocket client replay from
the database and then follow live without a gap. Publishes go out in the batches' order, each
after its own store; the writer stores the next batch meanwhile (a run's last
batch, which its sync caller waits for, does not queue behind a publish).

The sink cannot lose a run:

- a dropped database connection (restart, failover) is retried with backoff
  for STORE_RETRY_SECONDS, each time on a fresh connection;
- a batch the database refuses (a value too long, a broken constraint, a value
  too deep to encode), or a database that stays away, ends the run ``failed``
  with the reason, in the run's error and in a ``run.completed`` event; every
  event stored before the refused one is kept;
- publishing is best effort: a channel layer that fails is logged and skipped
  (followers read what they missed from the database);
- once the run cannot be recorded (or was ended elsewhere, e.g. by the sweep),
  the sink stops the engine's task, so no model is called for a dead run.

Terminal statuses follow one rule, ``finished.finish_run``'s (the columns of
``finished.end_fields``, then ``finished.ended``), and are written only from the
status the writer expects: a run the sweep failed or a user cancelled is never
overwritten by a late ``run.completed``; that write also fires the run-finished
hook, once, on commit.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone

from backend.config.storable import may_hold_nul, without_nul
from backend.engine.shapes import span_fields

from .finished import end_fields, ended, finish_run
from .loop import db_call
from .models import Run, RunEvent, Span
from .trace_writes import Row, json_rows, store_batch, store_batch_and_end
from .waiting import park, store_requests

log = logging.getLogger(__name__)
T = TypeVar("T")

# The columns a re-sent span overwrites: every field span.json gives a stored span, but its key.
SPAN_FIELDS = [name for name in span_fields() if name != "span_id"]

# How long a database that dropped its connections gets to come back before the run is failed. A restart
# takes seconds; the run's heartbeat (Redis) keeps the sweep away meanwhile.
STORE_RETRY_SECONDS = 30.0
RETRY_FIRST_DELAY_S = 0.1
RETRY_MAX_DELAY_S = 2.0
# A channel layer that hangs (Redis stopped, not refused) must not hold up storing the next events.
PUBLISH_TIMEOUT_S = 5.0
# Errors that say "the connection is gone", not "this data is wrong": worth a retry on a new connection.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
STORE_FAILED = "could not store the run's trace"
# Events emitted within this long of the first one waiting are stored (and published) with it: a step's end and
# the next step's start come a few loop turns apart, and one transaction for both halves a chain's writes.
BATCH_WINDOW_S = 0.005
# A run's last events are written at once: nothing follows them, and its caller is waiting for them.
LAST_EVENTS = frozenset({"run.completed", "run.waiting"})
# Events that write more than the trace (the run's end, its wait, an approval request): their batch is one
# transaction with those writes, so the run's end and its last events commit together.
ROW_EVENTS = frozenset({"run.completed", "run.waiting", "approval.requested"})


def run_group(run_id: Any) -> str:
    return f"run-{run_id}"


def _when(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _span_row(run_id: Any, span: dict[str, Any]) -> Row:
    return Row(
        run_id=run_id, span_id=span["span_id"], parent_id=span.get("parent_id") or "",
        node_id=span.get("node_id") or "", kind=span["kind"], name=span["name"],
        node_type=span.get("node_type") or "", status=span["status"],
        started_at=dt.datetime.fromtimestamp(span["started_at"], tz=dt.UTC),
        ended_at=_when(span.get("ended_at")), duration_ms=span.get("duration_ms"), input=span.get("input"),
        output=span.get("output"), model=span.get("model") or "", input_tokens=span.get("input_tokens") or 0,
        output_tokens=span.get("output_tokens") or 0, cost_usd=span.get("cost_usd") or 0.0,
        cache_hit=bool(span.get("cache_hit")), error=span.get("error") or "", attributes=span.get("attributes") or {},
    )


def _event_rows(run_id: Any, events: list[dict[str, Any]]) -> str:
    return json_rows(RunEvent, [Row(run_id=run_id, seq=e["seq"], type=e["type"], payload=e) for e in events])


def _span_rows(run_id: Any, events: list[dict[str, Any]]) -> str:
    spans = {e["span"]["span_id"]: e["span"] for e in events if isinstance(e.get("span"), dict)}
    return json_rows(Span, [_span_row(run_id, s) for s in spans.values()])


def persist_events(run_id: Any, events: list[dict[str, Any]]) -> bool:
    """Store numbered events, upsert the spans they carry, and keep the run row in step.

    Returns False, storing nothing, when the run is no longer running (swept, or ended
    elsewhere): its trace is closed, and a late event must not follow its ``run.completed``.
    """
    numbered = [e for e in events if e.get("seq") is not None]
    if not numbered:
        return True
    rows = _event_rows(run_id, numbered)
    if may_hold_nul(rows):  # model text may hold U+0000: store the events (and all taken from them) without it
        numbered = [without_nul(e) for e in numbered]
        rows = _event_rows(run_id, numbered)
    # Every span is inside an event (its payload), so the events' rows held no U+0000 that the spans' could.
    span_rows = _span_rows(run_id, numbered)
    kinds = [e["type"] for e in numbered]
    if not ROW_EVENTS.intersection(kinds):
        # A batch of trace only is one statement, a transaction of its own: no BEGIN and COMMIT round trips.
        return store_batch(run_id, rows, span_rows, SPAN_FIELDS) == Run.Status.RUNNING
    if kinds[-1] == "run.completed" and not ROW_EVENTS.intersection(kinds[:-1]):
        # The engine's end (the run's last batch, its caller waiting): the trace and the end in one statement.
        end = numbered[-1]
        fields = end_fields(end["status"], output=end.get("output"), error=end.get("error"),
                            totals=end.get("totals") or {})
        status, moved = store_batch_and_end(run_id, rows, span_rows, SPAN_FIELDS, fields)
        if moved:
            ended(run_id, fields)
        return status == Run.Status.RUNNING
    with transaction.atomic():
        # The batch's statement locks the run row until this transaction ends, and writes only if it is running.
        if store_batch(run_id, rows, span_rows, SPAN_FIELDS) != Run.Status.RUNNING:
            return False
        asked = [e for e in numbered if e["type"] == "approval.requested"]
        if asked:
            store_requests(run_id, asked)
        for event in numbered:
            if event["type"] == "run.completed":
                finish_run(run_id, event["status"], output=event.get("output"), error=event.get("error"),
                        totals=event.get("totals") or {})
            elif event["type"] == "run.waiting":  # not an end: the run waits for a person (waiting.py)
                park(run_id, event.get("totals") or {})
    return True


def store_run_end(run_id: Any, status: str, error: str, *, expected: str) -> dict[str, Any] | None:
    """End a run the engine did not end, with its ``run.completed`` event; the event, or None if not ``expected``.

    Checked under a row lock, so a worker that claimed the run meanwhile keeps it.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
        if run is None or run.status != expected:
            return None
        last = RunEvent.objects.filter(run_id=run_id).aggregate(m=Max("seq"))["m"] or 0
        event: dict[str, Any] = {"type": "run.completed", "run_id": str(run_id), "seq": last + 1, "ts": timezone.now().timestamp(),
                 "status": status, "output": None, "error": error, "totals": {}}
        RunEvent.objects.create(run_id=run_id, seq=event["seq"], type=event["type"], payload=event)
        finish_run(run_id, status, expected=expected, error=error)
    return event


def finish_run_outside_engine(run_id: Any, status: str, error: str, *, expected: str) -> bool:
    """End a run the engine did not end (cancelled while queued, worker lost): store, then publish.

    Only while the run is still in the ``expected`` status. Returns whether it acted.
    """
    event = store_run_end(run_id, status, error, expected=expected)
    if event is None:
        return False
    try:
        async_to_sync(get_channel_layer().group_send)(run_group(run_id), _message([event]))
    except Exception:  # stored is what counts: followers read it from the database
        log.warning("run %s: could not publish its end to the channel layer", run_id, exc_info=True)
    return True


def _settle(window: asyncio.Future[None]) -> None:
    if not window.done():
        window.set_result(None)


def _message(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "run.events", "events": events}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _where(event: dict[str, Any]) -> str:
    node_id = event.get("node_id") or (event.get("span") or {}).get("node_id")
    return f"{event.get('type')} event" + (f" of node '{node_id}'" if node_id else "")


class _Unreachable(Exception):
    """The database kept dropping the connection for longer than STORE_RETRY_SECONDS."""


class RunEventSink:
    """Implements the engine's ``events`` port for one run."""

    def __init__(self, run_id: Any):
        self.run_id = run_id
        # Why the run's trace could not be stored (the run was failed with it); None while all is well.
        self.failure: str | None = None
        # True once nothing more can be recorded for this run: it failed here or was ended elsewhere.
        self.stopped = False
        self._watched: list[asyncio.Future[Any]] = []
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._layer = get_channel_layer()
        self._window: asyncio.Future[None] | None = None  # set while the writer gathers a batch
        self._flush = False  # a run's last event (or the close) is queued: write without waiting
        # The latest batch's publish. Each publish waits for the one before it (followers get the batches in
        # order) and starts once its batch is stored; the writer does not wait for it to store the next batch.
        self._published: asyncio.Future[None] | None = None
        self._writer = asyncio.get_running_loop().create_task(self._drain())

    def emit(self, event: dict[str, Any]) -> None:
        if not self.stopped:  # after the end, an event has nowhere to go
            self._queue.put_nowait(event)
            if event.get("type") in LAST_EVENTS:
                self._flush_now()

    def stops(self, task: asyncio.Future[Any]) -> None:
        """Cancel ``task`` (the engine's) as soon as the run can no longer be recorded."""
        if self.stopped:
            task.cancel()
        self._watched.append(task)

    async def close(self) -> None:
        """Wait until every emitted event is stored and published (or the run is failed)."""
        self._queue.put_nowait(None)
        self._flush_now()
        await self._writer
        if self._published is not None:
            await self._published

    def _flush_now(self) -> None:
        self._flush = True
        if self._window is not None:
            _settle(self._window)

    async def _gather(self) -> None:
        """Wait BATCH_WINDOW_S for more events, or less if the run's last one (or the close) comes first."""
        loop = asyncio.get_running_loop()
        self._window = window = loop.create_future()
        timer = loop.call_later(BATCH_WINDOW_S, _settle, window)
        try:
            await window
        finally:
            timer.cancel()
            self._window = None

    async def _drain(self) -> None:
        closing = False
        while not closing:
            batch = [await self._queue.get()]
            if not self._flush:
                await self._gather()
            self._flush = False  # what made it urgent is taken below, with no await in between
            while not self._queue.empty():  # take what has piled up: one transaction per batch
                batch.append(self._queue.get_nowait())
            if batch[-1] is None:
                closing = True
            events = [e for e in batch if e is not None]
            if events and not self.stopped:
                try:
                    await self._record(events)
                except Exception:  # the writer must outlive anything, or later events vanish in silence
                    log.exception("run %s: the event sink failed", self.run_id)
                    await self._fail(f"{STORE_FAILED}: internal error")

    async def _record(self, events: list[dict[str, Any]]) -> None:
        try:
            stored = await self._retrying(persist_events, self.run_id, events)
        except _Unreachable as exc:
            await self._fail(f"{STORE_FAILED}: {exc}")
            return
        except Exception as exc:  # refused for good: DataError, IntegrityError, a value too deep to encode...
            if len(events) > 1:  # store them one at a time: every event before the refused one is kept
                for event in events:
                    if self.stopped:
                        return
                    await self._record([event])
                return
            log.error("run %s: the database refused its %s: %s", self.run_id, _where(events[0]), exc)
            await self._fail(f"{STORE_FAILED}: {_first_line(exc)} (in the {_where(events[0])})")
            return
        if not stored:
            log.warning("run %s ended elsewhere (swept or stopped); its engine is stopped", self.run_id)
            self._stop()
            return
        self._publish_next(events)  # stored: the next batch's write need not wait for this one's publish

    async def _retrying(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` in a database thread; a dropped connection is retried with backoff, on a new connection."""
        call = db_call(fn)  # reconnects a dropped connection (loop.py); this loop adds the backoff
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STORE_RETRY_SECONDS
        delay = RETRY_FIRST_DELAY_S
        while True:
            try:
                return await call(*args, **kwargs)
            except TRANSIENT_ERRORS as exc:
                if loop.time() + delay > deadline:
                    raise _Unreachable(f"the database stayed unreachable for {STORE_RETRY_SECONDS:g} s "
                                       f"({_first_line(exc)})") from exc
                log.warning("run %s: database unreachable (%s); retrying in %.1f s", self.run_id,
                            _first_line(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY_S)

    async def _fail(self, reason: str) -> None:
        """The run cannot be recorded: stop its engine, then end it failed with the reason, kept in its trace."""
        self.failure = reason
        self._stop()
        try:
            event = await self._retrying(store_run_end, self.run_id, Run.Status.FAILED, reason,
                                         expected=Run.Status.RUNNING)
        except Exception:  # the database is gone for good: the sweep fails the run once its heartbeat stops
            log.exception("run %s: could not mark it failed (%s)", self.run_id, reason)
            return
        if event is not None:
            await self._publish_next([event])

    def _stop(self) -> None:
        self.stopped = True
        for task in self._watched:
            task.cancel()

    def _publish_next(self, events: list[dict[str, Any]]) -> asyncio.Future[None]:
        """Publish ``events`` (already stored) after every batch published before them."""
        self._published = asyncio.ensure_future(self._publish_after(self._published, events))
        return self._published

    async def _publish_after(self, before: asyncio.Future[None] | None, events: list[dict[str, Any]]) -> None:
        if before is not None:
            await asyncio.wait([before])  # its outcome is its own (_publish never raises): only its turn counts
        await self._publish(events)

    async def _publish(self, events: list[dict[str, Any]]) -> None:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self._layer.group_send(run_group(self.run_id), _message(events))
        except Exception:  # stored is what counts: followers read what they missed from the database
            log.warning("run %s: could not publish %d events to the channel layer", self.run_id, len(events),
                        exc_info=True)
