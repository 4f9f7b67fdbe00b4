"""The run channel layer's group_send: one Redis command for a group nobody follows, the stock send otherwise."""
from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from django.conf import settings
from redis.asyncio.client import Redis

from backend.runs.channel_layer import RedisFollowLayer


def a_layer() -> RedisFollowLayer:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    return RedisFollowLayer(**config, prefix=f"test-{uuid.uuid4().hex}")  # a prefix of its own: nothing shared


def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    commands: list[str] = []
    execute = Redis.execute_command

    async def recorded(self: Redis, *args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return await execute(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", recorded)
    return commands


def test_a_group_nobody_follows_costs_one_command(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = a_layer()

    async def main() -> list[str]:
        await layer.group_send("run-x", {"type": "run.events", "events": []})  # loads the script if Redis lacks it
        commands.clear()
        await layer.group_send("run-x", {"type": "run.events", "events": [{"seq": 1}]})
        sent = list(commands)
        await layer.flush()
        return sent

    commands = counted(monkeypatch)
    assert asyncio.run(main()) == ["EVALSHA"]


def test_members_get_every_message_in_order_and_expired_members_are_dropped() -> None:
    layer = a_layer()

    async def main() -> tuple[list[Any], list[bytes]]:
        channel = await layer.new_channel()
        await layer.group_add("run-y", channel)
        gone = await layer.new_channel()
        await layer.group_add("run-y", gone)
        key = layer._group_key("run-y")
        await layer.connection(0).zadd(key, {gone: time.time() - layer.group_expiry - 5})  # joined long ago
        for seq in (1, 2, 3):
            await layer.group_send("run-y", {"type": "run.events", "events": [{"seq": seq}]})
        got = [(await layer.receive(channel))["events"][0]["seq"] for _ in range(3)]
        members = await layer.connection(0).zrange(key, 0, -1)
        await layer.flush()
        return got, members

    got, members = asyncio.run(main())
    assert got == [1, 2, 3]
    assert len(members) == 1  # the expired member was dropped, the live one kept
