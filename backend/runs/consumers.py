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
from backend.config.params import MAX_INT, whole_number

from .follow import HEARTBEAT, follow_run
from .selectors import run_visible

log = logging.getLogger(__name__)

FOLLOW_MAX_S = 24 * 3600  # a socket follows one run at most this long
MAX_MESSAGE_BYTES = 4096  # a ping is 16 bytes; nothing a client says needs more
MAX_MESSAGE_DEPTH = 8


def _after(query_string: bytes) -> int | None:
    """The ``after=`` cursor of the query string (0 when absent), or None when it is not a whole number."""
    query = parse_qs(query_string.decode("latin-1"))
    after = whole_number((query.get("after") or ["0"])[-1] or "0")
    return after if after is not None and after <= MAX_INT else None


class RunEventsConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None  # no channel of its own: the follower subscribes

    async def connect(self) -> None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        self.last_seq = 0
        self._follower: asyncio.Task[None] | None = None
        # Set only once the run is known to be the user's: a frame that arrives after a refusal (the client
        # had sent it before it read the close) gets no answer at all, not even a pong.
        self.following = False
        user = self.scope.get("user")
        after = _after(self.scope.get("query_string", b""))
        await self.accept()  # accept first, so the client can read the close code and reason
        if not user or not user.is_authenticated:
            await self.close(code=4401, reason="sign in first")
            return
        if after is None:
            await self.close(code=4400, reason="after must be a whole number")
            return
        if not await database_sync_to_async(run_visible)(user, self.run_id):
            await self.close(code=4403, reason="no such run in your workspaces")
            return
        self.last_seq = after
        self.following = True
        self._follower = asyncio.ensure_future(self._follow())

    async def disconnect(self, code: int) -> None:
        follower, self._follower = getattr(self, "_follower", None), None
        if follower is not None and not follower.done():
            follower.cancel()  # the follower's own cleanup leaves the group and drops its buffers
            with contextlib.suppress(BaseException):
                await follower

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """A client message, read by the API's one JSON reader: anything unreadable gets an error frame, never a crash.

        The stream is one-way; the only message is ``{"type": "ping"}`` (answered with a pong, so clients can
        check the line). The socket stays open after a bad message: the events matter more than the chatter.
        """
        if not getattr(self, "following", False):
            return
        if text_data is None:
            await self.send_json({"type": "error", "message": "send JSON text frames, e.g. {\"type\": \"ping\"}",
                                  "problems": [{"path": "", "message": "not a text frame"}]})
            return
        try:
            content = jsonbody.loads(text_data, max_bytes=MAX_MESSAGE_BYTES, max_depth=MAX_MESSAGE_DEPTH)
        except jsonbody.BodyProblem as problem:
            await self.send_json({"type": "error", "message": problem.message, "problems": problem.problems})
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
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
