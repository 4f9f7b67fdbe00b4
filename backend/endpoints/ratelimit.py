"""Per-key rate limit on Redis: at most N run calls in any rolling 60 seconds, across every web process.

A sliding-window log in one sorted set per key, checked and updated by one Lua
script (atomic, and timed by Redis's own clock so web processes with skewed
clocks agree). A refused call is not recorded, so a client that backs off as
told by ``Retry-After`` gets through; nor is a call that a service being down
refused after it was counted (``uncount``): a client retrying through an
outage is not locked out once the service is back.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from backend.config.redis_clients import sync_redis

WINDOW_MS = 60_000

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {1, count + 1, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the oldest counted call leaves the window
    entry: str = ""  # the call's entry in the window ("" when refused: nothing was counted)

    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                   "RateLimit-Reset": str(self.reset_s)}
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_s)
        return headers


def bucket(key_prefix: str) -> str:
    return f"patchbay:ratelimit:key:{key_prefix}"


def hit(key_prefix: str, limit: int) -> Decision:
    """Count one call against the key's window, or refuse it when the window is full. Sync: a call's admission
    checks its limit on the database thread it runs on (admission.py), with the process's sync client (about half
    the CPU of a ``redis.asyncio`` call on the loop)."""
    entry = secrets.token_hex(8)
    return _decision(limit, sync_redis().eval(_SCRIPT, 1, bucket(key_prefix), WINDOW_MS, limit, entry), entry)


def uncount(key_prefix: str, decision: Decision) -> None:
    """Take a counted call back out of the key's window: it was refused after all (a service was down)."""
    if decision.allowed:
        sync_redis().zrem(bucket(key_prefix), decision.entry)


def _decision(limit: int, reply: list[int], entry: str) -> Decision:
    allowed, count, reset_ms = reply
    return Decision(allowed=bool(allowed), limit=limit, remaining=max(0, limit - int(count)),
                    reset_s=max(1, math.ceil(int(reset_ms) / 1000)), entry=entry if allowed else "")
