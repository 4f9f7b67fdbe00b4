"""The engine's cache port on Redis: answers of deterministic model calls."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

TTL_SECONDS = 24 * 3600
_clients: dict[int, aioredis.Redis] = {}


def redis_client() -> aioredis.Redis:
    """The asyncio Redis client of the running loop."""
    # One client per event loop: redis.asyncio connections belong to the loop that made them.
    key = id(asyncio.get_running_loop())
    if key not in _clients:
        _clients[key] = aioredis.from_url(settings.REDIS_URL)
    return _clients[key]


class RedisCache:
    """Namespaced per workspace: one team's cached answers are never served to another."""

    def __init__(self, namespace: str):
        self.prefix = f"patchbay:cache:{namespace}:"

    async def get(self, key: str) -> Any | None:
        raw = await redis_client().get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any) -> None:
        await redis_client().set(self.prefix + key, json.dumps(value, default=str), ex=TTL_SECONDS)
