"""Which workers are up: each worker process says so in Redis every beat, and the health check counts them.

A worker announces itself when Celery says it is ready to take tasks (``worker_ready``), then once every
PATCHBAY_HEARTBEAT_SECONDS from a thread, into one sorted set scored by Redis's own clock (so workers on other
machines with skewed clocks still count). A worker whose beats stop (dead, or its run loop wedged) drops out
after three beats; one that stops cleanly withdraws at once. ``GET /api/health/`` (backend/web/health.py) and
``manage.py serve`` ask ``ready_workers``: the stack is healthy only when at least one is fresh.

The beat also proves the run loop turns: each beat posts a no-op to the loop, and a loop that has not run the
last one for three beats is wedged, so the worker stops vouching for itself (runs already beat per run in
liveness.py; this one beats with no run at all).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings

from backend.config.redis_clients import sync_redis

log = logging.getLogger(__name__)

WORKERS_KEY = "patchbay:workers"  # sorted set: hostname → Redis time of its last beat
FACTS_KEY = "patchbay:worker-facts"  # hash: hostname → JSON facts of its last beat
TTL_BEATS = 3

# KEYS: the set, the facts; ARGV: hostname, facts JSON, seconds a beat stays fresh. Scored by Redis's clock;
# workers gone stale are dropped here, facts included. Both keys expire when no worker beats at all.
_ANNOUNCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local fresh = tonumber(ARGV[3])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - fresh))) do
  redis.call('HDEL', KEYS[2], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - fresh))
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(fresh))
redis.call('EXPIRE', KEYS[2], math.ceil(fresh))
return 1
"""
# KEYS: the set, the facts; ARGV[1]: seconds a beat stays fresh. Returns the fresh workers' facts (JSON).
_FRESH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local names = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
if #names == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(names))
"""


def _beat_s() -> float:
    return float(settings.PATCHBAY_HEARTBEAT_SECONDS)


def fresh_for_s() -> int:
    """A worker counts this long after its last beat."""
    return max(1, round(_beat_s() * TTL_BEATS))


def announce(hostname: str, **facts: Any) -> None:
    """One beat: this worker is up (``facts`` ride along, e.g. whether its models are loaded)."""
    sync_redis().eval(_ANNOUNCE, 2, WORKERS_KEY, FACTS_KEY, hostname, json.dumps(facts), fresh_for_s())


def withdraw(hostname: str) -> None:
    """This worker stops: it no longer counts (a worker killed outright drops out after three beats)."""
    pipe = sync_redis().pipeline(transaction=False)
    pipe.zrem(WORKERS_KEY, hostname)
    pipe.hdel(FACTS_KEY, hostname)
    pipe.execute()


def ready_workers() -> list[dict[str, Any]]:
    """The facts of each worker that beat within the last three beats. Raises redis errors."""
    return [json.loads(f) if f else {} for f in sync_redis().eval(_FRESH, 2, WORKERS_KEY, FACTS_KEY,
                                                                  fresh_for_s())]


class Presence:
    """The worker process's presence thread: announce now, then every beat while the run loop turns."""

    def __init__(self, hostname: str, loop: asyncio.AbstractEventLoop, facts: Callable[[], dict[str, Any]] = dict):
        self.hostname, self.loop, self.facts = hostname, loop, facts
        self.loop_turned = time.monotonic()
        self._stop = threading.Event()
        self._failing = False

    def start(self) -> None:
        self.beat()  # before returning: the worker counts from the moment Celery says it is ready
        threading.Thread(target=self._forever, name="patchbay-presence", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        try:
            withdraw(self.hostname)
        except redis.RedisError as exc:
            log.warning("could not withdraw worker %s (%s); it drops out in %s s", self.hostname, exc,
                        fresh_for_s())

    def _turned(self) -> None:
        self.loop_turned = time.monotonic()

    def beat(self) -> None:
        if time.monotonic() - self.loop_turned > TTL_BEATS * _beat_s():
            return  # the run loop has not run our last no-op for three beats: wedged, so say nothing
        try:
            self.loop.call_soon_threadsafe(self._turned)
        except RuntimeError:  # the loop is closed: the worker is going away
            return
        try:
            announce(self.hostname, **self.facts())
            if self._failing:
                log.warning("worker presence beats resumed")
            self._failing = False
        except redis.RedisError as exc:  # Redis restarting: the health check says so meanwhile
            if not self._failing:
                log.warning("worker presence beat failed (%s); retrying every %s s", exc, _beat_s())
            self._failing = True

    def _forever(self) -> None:
        while not self._stop.wait(_beat_s()):
            self.beat()
