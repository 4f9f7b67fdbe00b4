"""Follow one run: its events after a seq, stored then live, in order, no gap, no duplicate.

The one follower behind every reader: the websocket (runs/consumers.py), the
SSE stream and the sync endpoint call (endpoints/follow.py, flow_views.py).

How it stays whole:

* It joins the run's channel-layer group *before* reading the database, so
  an event stored after the read still arrives live. Numbered events are
  passed on only as ``seq == last + 1``: an older one is a duplicate, a newer
  one means a hole, and the hole is filled from the database (the sink stores
  each event before it publishes it, so the database always has it).
* The channel layer is fast, not a guarantee. After ``POLL_S`` without a new
  numbered event the database is asked again, so a lost message costs a
  second, never a hung reader.
* When the channel layer fails (Redis down or restarting, pool exhausted),
  the follower leaves it and polls the database every ``POLL_S``, trying to
  rejoin every ``RESUBSCRIBE_S``; once back it reads what it missed and goes
  on live. A failed database read is retried on the next tick.
* While nothing happens it yields ``HEARTBEAT`` every ``heartbeat_s`` (SSE
  turns it into a keep-alive comment).
* Whatever ends it (the run's end, the deadline, the reader going away) it
  cancels its pending receive, leaves the group and lets the layer forget the
  channel: an abandoned subscription keeps buffers alive in the web process.

Live-only token deltas (no ``seq``) pass once the events they follow were sent.
Those sent while the follower was off the channel layer are lost for good (they
are never stored); a reader that adds deltas up (the OpenAI streams) asks for
``DELTAS_MISSED`` (``gaps=True``), yielded each time that may have happened, so
that it never glues the pieces heard after a gap onto those heard before it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

from .live_deltas import want_run_deltas
from .models import Run
from .selectors import events_after
from .sinks import run_group

log = logging.getLogger(__name__)

HEARTBEAT: dict[str, Any] = {"type": "heartbeat"}
DELTAS_MISSED: dict[str, Any] = {"type": "deltas.missed"}  # only with ``gaps``: live deltas may have been lost
POLL_S = 1.0  # without news this long, ask the database
RESUBSCRIBE_S = 2.0  # after a channel-layer failure, try to rejoin this often
CLEANUP_S = 3.0  # leaving the group never holds a finished reader longer than this

# How a caller runs ORM code from async code: ``await db(fn)(*args)`` (its own thread pool or Channels').
DbRunner = Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]


def stored_after(run_id: Any, after: int) -> tuple[list[dict[str, Any]], bool]:
    """The stored events after ``after`` and whether the run had finished before they were read.

    Finished first: the last event commits with the status, so a run seen finished has all its events stored.
    """
    finished = Run.objects.filter(pk=run_id, status__in=Run.FINISHED).exists()
    return events_after(run_id, after), finished


class _Subscription:
    """A private channel in the run's group, with at most one receive in flight."""

    def __init__(self, layer: Any, group: str):
        self.layer = layer
        self.group = group
        self.channel = ""
        self._pending: asyncio.Future[Any] | None = None

    @property
    def joined(self) -> bool:
        return bool(self.channel)

    async def join(self) -> None:
        channel = await self.layer.new_channel()
        try:
            await self.layer.group_add(self.group, channel)
        except BaseException:
            self._release(channel)
            raise
        self.channel = channel

    async def next(self, timeout: float) -> list[dict[str, Any]] | None:
        """The events of the next message, or None when ``timeout`` passes first; raises if the layer fails."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self.layer.receive(self.channel))
        done, _ = await asyncio.wait({self._pending}, timeout=max(0.0, timeout))
        if not done:
            return None  # the receive stays in flight for the next call: cancelling it may drop a message
        pending, self._pending = self._pending, None
        return list(pending.result().get("events") or [])

    async def leave(self) -> None:
        """Cancel the receive, leave the group, let the layer forget the channel. Never raises."""
        channel, self.channel = self.channel, ""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait({pending}, timeout=CLEANUP_S)
        if channel:
            try:
                await asyncio.wait_for(self.layer.group_discard(self.group, channel), CLEANUP_S)
            except Exception:  # the layer is down: the group entry expires with the group (group_expiry)
                log.info("could not leave %s; it expires on its own", self.group)
            self._release(channel)

    def _release(self, channel: str) -> None:
        release = getattr(self.layer, "release", None)
        if release is not None:
            release(channel)


async def follow_run(run_id: Any, after: int = 0, *, db: DbRunner, max_s: float = 3600, heartbeat_s: float = 15,
                     deltas: bool = True, layer: Any = None, gaps: bool = False
                     ) -> AsyncGenerator[dict[str, Any], None]:
    """Yield the run's events after ``after`` until ``run.completed`` (or ``max_s``), plus heartbeats (and
    ``DELTAS_MISSED`` with ``gaps``)."""
    deadline = time.monotonic() + max_s
    subscription = _Subscription(layer or get_channel_layer(), run_group(run_id))
    read = db(stored_after)
    last = after
    rejoin_at = 0.0
    read_due = True  # a database read is needed now (start, a hole, a rejoin)
    marked = False  # whether this follower told the worker it reads deltas
    checked = said = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            if not subscription.joined and now >= rejoin_at:
                try:
                    await subscription.join()
                    read_due = True  # what was stored while not subscribed
                    if deltas and not marked:
                        marked = True
                        await want_run_deltas(run_id)  # the worker streams this run's answers from now on
                except Exception as error:
                    log.warning("run %s: channel layer unavailable (%s); following from the database", run_id, error)
                    rejoin_at = now + RESUBSCRIBE_S
                    if gaps and deltas:
                        yield DELTAS_MISSED
            if read_due or now - checked >= POLL_S:
                read_due = False
                checked = time.monotonic()
                try:
                    stored, finished = await read(run_id, last)
                except Exception as error:
                    log.warning("run %s: reading its events failed (%s); trying again", run_id, error)
                    stored, finished = [], False
                for event in stored:
                    yield event
                    last, said = event["seq"], time.monotonic()
                    if event["type"] == "run.completed":
                        return
                if finished:
                    return  # finished and everything after the cursor is sent (the cursor may be past the end)
            wait = min(POLL_S - (time.monotonic() - checked), heartbeat_s - (time.monotonic() - said),
                       deadline - time.monotonic())
            if subscription.joined:
                try:
                    events = await subscription.next(wait)
                except Exception as error:
                    log.warning("run %s: channel layer failed (%s); following from the database", run_id, error)
                    await subscription.leave()
                    rejoin_at, read_due = time.monotonic() + RESUBSCRIBE_S, True
                    if gaps and deltas:
                        yield DELTAS_MISSED
                    continue
                for event in events or ():
                    seq = event.get("seq")
                    if seq is None:
                        if deltas and event.get("after_seq", 0) <= last:
                            yield event
                        continue
                    if seq <= last:
                        continue  # already sent
                    if seq > last + 1:
                        read_due = True  # a hole: the database has it all, in order
                        break
                    yield event
                    last, said = seq, time.monotonic()
                    checked = said  # live news counts as a check
                    if event["type"] == "run.completed":
                        return
            else:
                await asyncio.sleep(max(0.0, wait))
            if time.monotonic() - said >= heartbeat_s:
                yield HEARTBEAT
                said = time.monotonic()
    finally:
        await subscription.leave()
