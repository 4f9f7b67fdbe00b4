"""/ws/runs/<id>/?after=<seq>: replay the stored events after seq, then follow live.

The consumer joins the run's group *before* reading the database, so an
event stored after the read still arrives live; events already sent are
dropped by seq, and a hole (never expected) is filled from the database.
Close codes: 4401 not signed in, 4403 not your run (or no such run), 4400 bad cursor.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .selectors import events_after, run_visible
from .sinks import run_group


class RunEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        self.last_seq = 0
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
        self.group = run_group(self.run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        for event in await database_sync_to_async(events_after)(self.run_id, self.last_seq):
            await self._send_numbered(event)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The stream is one-way; a ping gets a pong so clients can check the line.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "last_seq": self.last_seq})

    async def run_events(self, message: dict[str, Any]) -> None:
        for event in message["events"]:
            seq = event.get("seq")
            if seq is None:
                # Live-only token deltas: only meaningful once the client has what they follow.
                if event.get("after_seq", 0) <= self.last_seq:
                    await self.send_json(event)
                continue
            if seq <= self.last_seq:
                continue  # already sent by the replay
            if seq > self.last_seq + 1:
                for missing in await database_sync_to_async(events_after)(self.run_id, self.last_seq):
                    if missing["seq"] >= seq:
                        break
                    await self._send_numbered(missing)
            await self._send_numbered(event)

    async def _send_numbered(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
        self.last_seq = event["seq"]
