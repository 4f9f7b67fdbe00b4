"""The engine's cache port on Redis: answers of deterministic model calls."""
from __future__ import annotations

import json
from typing import Any

from backend.config.redis_clients import async_redis

TTL_SECONDS = 24 * 3600


class RedisCache:
    """Namespaced per workspace: one team's cached answers are never served to another."""

    def __init__(self, namespace: str):
        self.prefix = f"patchbay:cache:{namespace}:"

    async def get(self, key: str) -> Any | None:
        raw = await async_redis().get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any) -> None:
        await async_redis().set(self.prefix + key, json.dumps(value, default=str), ex=TTL_SECONDS)
