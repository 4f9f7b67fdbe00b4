"""/ws/evals/<id>/: an eval run's progress, live. Each message is a whole snapshot (done, total, status,
summary when finished), so nothing needs replaying: the first one comes from the database, then the group's,
and the database again every few seconds in case the channel layer is silent."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from .models import EvalRun
from .progress import eval_group, snapshot
from .selectors import eval_run_visible

POLL_S = 3.0


def _snapshot(eval_run_id: str) -> dict[str, Any] | None:
    eval_run = EvalRun.objects.filter(pk=eval_run_id).first()
    return snapshot(eval_run) if eval_run else None


class EvalProgressConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None  # the follow task below subscribes, as runs/consumers.py does

    async def connect(self) -> None:
        self.eval_id = self.scope["url_route"]["kwargs"]["eval_id"]
        self._task: asyncio.Task[None] | None = None
        user = self.scope.get("user")
        await self.accept()
        if not user or not user.is_authenticated:
            await self.close(code=4401, reason="sign in first")
            return
        if not await database_sync_to_async(eval_run_visible)(user, self.eval_id):
            await self.close(code=4403, reason="no such eval run in your workspaces")
            return
        self._task = asyncio.ensure_future(self._follow())

    async def disconnect(self, code: int) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _follow(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(eval_group(self.eval_id), channel)
        try:
            message = await database_sync_to_async(_snapshot)(self.eval_id)
            while message is not None:
                await self.send_json(message)
                if message["status"] != EvalRun.Status.RUNNING:
                    break
                try:
                    message = await asyncio.wait_for(layer.receive(channel), POLL_S)
                except TimeoutError:
                    message = await database_sync_to_async(_snapshot)(self.eval_id)
        finally:
            with contextlib.suppress(Exception):
                await layer.group_discard(eval_group(self.eval_id), channel)
            release = getattr(layer, "release", None)
            if release is not None:
                release(channel)
