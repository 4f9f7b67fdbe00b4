"""The Redis clients: one place makes them (cache, heartbeats, rate limits, registry version).

redis.asyncio connections belong to the event loop that made them, so the async
client is kept per loop; the sync client is one per process.
"""
from __future__ import annotations

import asyncio
import threading
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()
_sync: redis.Redis | None = None
_lock = threading.Lock()


def async_redis() -> aioredis.Redis:
    """The asyncio client of the running loop."""
    loop = asyncio.get_running_loop()
    client = _async.get(loop)
    if client is None:
        client = _async[loop] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client


def sync_redis() -> redis.Redis:
    global _sync
    if _sync is None:
        with _lock:
            if _sync is None:
                _sync = redis.Redis.from_url(settings.REDIS_URL)
    return _sync
