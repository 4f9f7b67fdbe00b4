"""Follow a run from an async view: wait for its end (sync calls) or read its events (SSE).

Same discipline as the websocket consumer (backend/runs/consumers.py): join
the run's channel-layer group *before* reading the database, so nothing
stored after the read is missed; drop what was already sent by ``seq``; fill
a hole from the database. The channel layer is fast but not a guarantee
(messages expire, buffers are bounded), so every ``POLL_S`` without news the
database is asked again: a lost message costs a second, never a hung caller.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer

from backend.runs.selectors import events_after
from backend.runs.sinks import run_group

from .asyncdb import db
from .selectors import run_is_finished

POLL_S = 1.0
HEARTBEAT = {"type": "heartbeat"}  # yielded while nothing happens, so a stream can send a keep-alive


class _Subscription:
    """A private channel in the run's group, with at most one receive in flight (never cancelled mid-way)."""

    def __init__(self, run_id: Any):
        self.layer = get_channel_layer()
        self.group = run_group(run_id)
        self.channel = ""
        self._pending: asyncio.Future[Any] | None = None

    async def __aenter__(self) -> _Subscription:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pending is not None:
            self._pending.cancel()
        await self.layer.group_discard(self.group, self.channel)

    async def next(self, timeout: float) -> list[dict[str, Any]] | None:
        """The events of the next message, or None when ``timeout`` passes first."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self.layer.receive(self.channel))
        done, _ = await asyncio.wait({self._pending}, timeout=max(0.0, timeout))
        if not done:
            return None
        message, self._pending = self._pending.result(), None
        return list(message.get("events") or [])


async def wait_finished(run_id: Any, timeout_s: float) -> bool:
    """True once the run has finished, False if it is still going after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    async with _Subscription(run_id) as subscription:
        while True:
            if await db(run_is_finished)(run_id):
                return True
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return bool(await db(run_is_finished)(run_id))
                events = await subscription.next(min(POLL_S, left))
                if events is None:
                    break  # quiet for a while: ask the database
                if any(e.get("type") == "run.completed" for e in events):
                    return True


async def follow_events(run_id: Any, after: int = 0, *, max_s: float = 3600,
                        heartbeat_s: float = 15) -> AsyncIterator[dict[str, Any]]:
    """The run's events after ``after`` in order, stored then live, ending with ``run.completed``.

    Live-only token deltas (no ``seq``) pass through once the events they
    follow were sent. Yields ``HEARTBEAT`` after ``heartbeat_s`` of silence.
    """
    deadline = time.monotonic() + max_s
    last = after
    async with _Subscription(run_id) as subscription:
        for event in await db(events_after)(run_id, last):
            yield event
            last = event["seq"]
            if event["type"] == "run.completed":
                return
        if await db(run_is_finished)(run_id):
            # Finished: what it stored is complete now (the final event commits with the status); the cursor
            # may already be past it.
            for event in await db(events_after)(run_id, last):
                yield event
            return
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            events = await subscription.next(min(POLL_S, deadline - time.monotonic()))
            if events is None:
                events = await db(events_after)(run_id, last)  # the safety net for a lost message
                if not events and await db(run_is_finished)(run_id):
                    events = await db(events_after)(run_id, last)  # stored with the status, maybe just now
                    if not events:
                        return
                if not events and time.monotonic() - quiet_since >= heartbeat_s:
                    quiet_since = time.monotonic()
                    yield HEARTBEAT
            for event in events:
                seq = event.get("seq")
                if seq is None:
                    if event.get("after_seq", 0) <= last:
                        yield event
                    continue
                if seq <= last:
                    continue
                if seq > last + 1:
                    for missing in await db(events_after)(run_id, last):
                        if missing["seq"] >= seq:
                            break
                        yield missing
                        last = missing["seq"]
                yield event
                last = seq
                quiet_since = time.monotonic()
                if event["type"] == "run.completed":
                    return
