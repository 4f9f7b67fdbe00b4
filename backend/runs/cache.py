"""The engine's cache port on Redis: answers of deterministic model calls."""
from __future__ import annotations

import json
import math
from typing import Any

from backend.config.redis_clients import async_redis
from backend.engine.ports import DEFAULT_CACHE_TTL_S


class RedisCache:
    """Namespaced per workspace: one team's cached answers are never served to another."""

    def __init__(self, namespace: str):
        self.prefix = f"patchbay:cache:{namespace}:"

    async def get(self, key: str) -> Any | None:
        raw = await async_redis().get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        # Milliseconds, so a step's TTL is honoured to the fraction (Redis expires keys itself, in every worker).
        await async_redis().set(self.prefix + key, json.dumps(value, default=str), px=max(1, math.ceil(ttl_s * 1000)))
