"""/ws/runs/<id>/?after=<seq>: the run's events after seq, stored then live, in order.

The events come from the run follower (runs/follow.py), run as a task of
this connection. The consumer has no channel of its own
(``channel_layer_alias = None``): Channels would otherwise read that channel
in its dispatch loop and close the socket (1011) the first time the channel
layer failed. The follower outlives silence and channel-layer failures
(it falls back to the database), and is cancelled when the socket closes.
Close codes: 4401 not signed in, 4403 not your run (or no such run), 4400 bad cursor.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backend.config import jsonbody

from .follow import HEARTBEAT, follow_run
from .selectors import run_visible

log = logging.getLogger(__name__)

FOLLOW_MAX_S = 24 * 3600  # a socket follows one run at most this long


class RunEventsConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None  # type: ignore[assignment]  # no channel of its own: the follower subscribes

    async def connect(self) -> None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        self.last_seq = 0
        self._follower: asyncio.Task[None] | None = None
        user = self.scope.get("user")
        query = parse_qs(self.scope.get("query_string", b"").decode())
        after = (query.get("after") or ["0"])[-1]
        await self.accept()  # accept first, so the client can read the close code and reason
        if not user or not user.is_authenticated:
            await self.close(code=4401, reason="sign in first")
            return
        if not after.isdigit():
            await self.close(code=4400, reason="after must be a whole number")
            return
        if not await database_sync_to_async(run_visible)(user, self.run_id):
            await self.close(code=4403, reason="no such run in your workspaces")
            return
        self.last_seq = int(after)
        self._follower = asyncio.ensure_future(self._follow())

    async def disconnect(self, code: int) -> None:
        follower, self._follower = getattr(self, "_follower", None), None
        if follower is not None and not follower.done():
            follower.cancel()  # the follower's own cleanup leaves the group and drops its buffers
            with contextlib.suppress(BaseException):
                await follower

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        # Whatever a client sends (binary, not JSON, JSON too deep to read) is ignored like an unknown message:
        # Channels' JSON consumer would raise instead, and the socket would close with 1011.
        if text_data is None:
            return
        try:
            content = jsonbody.loads(text_data)
        except ValueError:
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The stream is one-way; a ping gets a pong so clients can check the line.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "last_seq": self.last_seq})

    async def _follow(self) -> None:
        try:
            events = follow_run(self.run_id, self.last_seq, db=database_sync_to_async, max_s=FOLLOW_MAX_S)
            async with contextlib.aclosing(events):
                async for event in events:
                    if event is HEARTBEAT:
                        continue  # the websocket's own pings keep the line
                    await self.send_json(event)
                    if event.get("seq") is not None:
                        self.last_seq = event["seq"]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following run %s failed", self.run_id)
            await self.close(code=1011)
