"""A circuit breaker per model alias, shared by every worker through Redis.

N failed attempts within a window (a success resets the count) trip the
breaker OPEN: for the cooldown, calls skip the alias (the gateway goes to its
fallbacks) without calling the provider. After the cooldown the first caller
atomically claims the one probe (HALF-OPEN); its success CLOSES the breaker,
its failure opens it again for another cooldown. A probe that never reports
(its worker died) lapses after the route's timeout and the next caller probes.

Why not litellm's Router cooldowns: they need every call to go through a
``Router`` (which then owns retries and fallbacks, and this gateway must
count and classify those itself for the span), their failure count is a
per-minute counter read through an in-memory tier, and when the cooldown
ends every caller goes through at once: there is no single half-open probe.
Three small Lua scripts give all of that atomically, with Redis's clock.

When Redis is down the breaker fails open: calls go through, and the log
says so (once a minute per process), never an error for the caller.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from .routes import BreakerPolicy, ModelRoute

log = logging.getLogger(__name__)

KEY_PREFIX = "patchbay:breaker:"
KEEP_MS = 7 * 24 * 3600 * 1000  # an untouched breaker is forgotten after a week (it is closed by then)

# Returns {verdict, until_ms, fails, peeked...}: verdict closed | open | half_open (someone else probes) | probe
# (you do); peeked: the values of KEYS[2..] (the caller's other reads before the call, in this round trip).
_ALLOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local peeked = {}
if #KEYS > 1 then peeked = redis.call('MGET', unpack(KEYS, 2)) end
local h = redis.call('HMGET', KEYS[1], 'state', 'until', 'fails')
local state = h[1] or 'closed'
if state == 'closed' then return {'closed', 0, tonumber(h[3] or '0'), unpack(peeked)} end
local until_ms = tonumber(h[2] or '0')
if now < until_ms then return {state, until_ms, 0, unpack(peeked)} end
local claim = now + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'half_open', 'until', claim)
return {'probe', claim, 0, unpack(peeked)}
"""

# ARGV: failures, window_ms, cooldown_ms, was_probe, detail. Returns {event, until_ms}.
_FAILURE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'state', 'fails', 'first')
local state = h[1] or 'closed'
local cooldown = tonumber(ARGV[3])
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + cooldown, 'fails', 0, 'opened_at', now,
             'last_error', ARGV[5])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
  return {'reopened', now + cooldown}
end
if state ~= 'closed' then return {'ignored', 0} end
local fails = tonumber(h[2] or '0')
local first = tonumber(h[3] or '0')
if fails == 0 or now - first > tonumber(ARGV[2]) then fails = 0; first = now end
fails = fails + 1
if fails >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + cooldown, 'fails', 0, 'first', 0, 'opened_at', now,
             'last_error', ARGV[5])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
  return {'tripped', now + cooldown}
end
redis.call('HSET', KEYS[1], 'fails', fails, 'first', first, 'last_error', ARGV[5])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
return {'counted', fails}
"""

# ARGV: was_probe. Returns the event: recovered | reset | ignored.
_SUCCESS = """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
  return 'recovered'
end
if state == 'closed' then
  redis.call('HDEL', KEYS[1], 'fails', 'first')
  return 'reset'
end
return 'ignored'
"""


@dataclass(frozen=True)
class Gate:
    """What the breaker says about one call to one alias."""
    allowed: bool
    probe: bool = False  # this call is the half-open probe: one attempt, its outcome decides
    state: str = "closed"  # closed | open | half_open | unknown (Redis down)
    until: float | None = None  # epoch seconds the cooldown (or the probe's claim) ends
    clean: bool = True  # closed with no failure counted: a success needs no write
    peeked: tuple[Any, ...] | None = None  # the values of allow()'s peek keys; None: not read (no breaker, Redis down)


OPEN_ANYWAY = Gate(allowed=True, state="unknown")

EventSink = Callable[[str, str, str], Any]  # (alias, event, detail) -> awaitable or None


class RedisBreaker:
    def __init__(self, client: Callable[[], Any], on_event: EventSink | None = None):
        self._client = client
        self._on_event = on_event
        self._warned_at = 0.0

    def _down(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("circuit breaker: Redis unreachable (%s); calls go through unguarded until it is back", exc)

    async def allow(self, route: ModelRoute, peek: tuple[str, ...] = ()) -> Gate:
        """May this call go to the provider? ``peek``: other keys the caller reads before the call; their values
        come back on the gate (``peeked``) from the same round trip."""
        policy = route.breaker
        if policy is None:
            return Gate(allowed=True)
        try:
            verdict, until_ms, fails, *peeked = await self._client().eval(
                _ALLOW, 1 + len(peek), KEY_PREFIX + route.alias, *peek, int(_probe_claim_s(route) * 1000))
        except (RedisError, OSError) as exc:
            self._down(exc)
            return OPEN_ANYWAY
        verdict = verdict.decode() if isinstance(verdict, bytes) else verdict
        until = int(until_ms) / 1000 or None
        values = tuple(peeked) if peek else None
        if verdict == "closed":
            return Gate(allowed=True, clean=int(fails) == 0, peeked=values)
        if verdict == "probe":
            return Gate(allowed=True, probe=True, state="half_open", until=until, clean=False, peeked=values)
        return Gate(allowed=False, state=verdict, until=until, clean=False, peeked=values)

    async def failure(self, route: ModelRoute, gate: Gate, detail: str) -> bool:
        """Count one failed attempt. True when the breaker is (now) open: stop calling this alias."""
        policy = route.breaker
        if policy is None:
            return False
        try:
            event, _ = await self._client().eval(
                _FAILURE, 1, KEY_PREFIX + route.alias, policy.failures, int(policy.window_s * 1000),
                int(policy.cooldown_s * 1000), "1" if gate.probe else "0", detail[:300], KEEP_MS)
        except (RedisError, OSError) as exc:
            self._down(exc)
            return False
        event = event.decode() if isinstance(event, bytes) else event
        if event in ("tripped", "reopened"):
            await self._emit(route.alias, event, detail)
            return True
        return False

    async def success(self, route: ModelRoute, gate: Gate) -> None:
        if route.breaker is None or gate.clean:
            return  # nothing to reset: no Redis write on the common path
        try:
            event = await self._client().eval(_SUCCESS, 1, KEY_PREFIX + route.alias, "1" if gate.probe else "0")
        except (RedisError, OSError) as exc:
            self._down(exc)
            return
        event = event.decode() if isinstance(event, bytes) else event
        if event == "recovered":
            await self._emit(route.alias, "recovered", "the probe call succeeded")

    async def _emit(self, alias: str, event: str, detail: str) -> None:
        if event == "tripped":
            log.warning("circuit breaker for model alias %r opened: %s", alias, detail)
        else:
            log.info("circuit breaker for model alias %r %s: %s", alias, event, detail)
        if self._on_event is None:
            return
        try:
            pending = self._on_event(alias, event, detail)
            if pending is not None:
                await pending
        except Exception:  # the record is for people; a failed write must not fail the call
            log.exception("circuit breaker: could not record %s for %r", event, alias)


def _probe_claim_s(route: ModelRoute) -> float:
    """How long a probe holds the half-open claim: its one attempt's timeout, plus slack."""
    return max(1.0, route.timeout_s) + 5.0


def read_states(client: Any, aliases: list[str]) -> dict[str, dict[str, Any]]:
    """Each alias's breaker as the Models page shows it (one pipelined read); state unknown when Redis is down."""
    if not aliases:
        return {}
    try:
        pipe = client.pipeline(transaction=False)
        for alias in aliases:
            pipe.hgetall(KEY_PREFIX + alias)
        pipe.time()
        *rows, (secs, micros) = pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("circuit breaker: Redis unreachable (%s); breaker states unknown", exc)
        return {a: {"state": "unknown", "until": None, "failures": 0, "last_error": ""} for a in aliases}
    now = int(secs) + int(micros) / 1e6
    return {alias: _state_of({k.decode(): v.decode() for k, v in row.items()}, now) for alias, row in zip(aliases, rows)}


def _state_of(row: dict[str, str], now: float) -> dict[str, Any]:
    state = row.get("state", "closed")
    until = int(row.get("until", "0")) / 1000 or None
    if state == "open" and until is not None and until <= now:
        state = "half_open"  # the cooldown is over: the next call probes
        until = None
    return {"state": state, "until": until if state == "open" else None,
            "failures": int(row.get("fails", "0")) if state == "closed" else 0,
            "last_error": row.get("last_error", "")}


def policy_from(failures: int | None, window_s: float | None, cooldown_s: float | None) -> BreakerPolicy | None:
    """An alias's breaker: its own numbers, else the settings' (MODEL_BREAKER_*), else 5 in 60 s, 30 s cooldown."""
    from django.conf import settings

    n = failures if failures is not None else getattr(settings, "MODEL_BREAKER_FAILURES", 5)
    if not n:
        return None  # 0 switches the breaker off for this alias
    return BreakerPolicy(
        failures=n,
        window_s=window_s if window_s is not None else getattr(settings, "MODEL_BREAKER_WINDOW_S", 60.0),
        cooldown_s=cooldown_s if cooldown_s is not None else getattr(settings, "MODEL_BREAKER_COOLDOWN_S", 30.0))


async def record_model_event(alias: str, kind: str, detail: str) -> None:
    from asgiref.sync import sync_to_async

    from .models import ModelEvent

    await sync_to_async(ModelEvent.objects.create, thread_sensitive=False)(alias=alias, kind=kind, detail=detail[:300])


_shared: RedisBreaker | None = None


def shared_breaker() -> RedisBreaker:
    """The process's breaker over the project's Redis, recording trips and recoveries as ModelEvents."""
    global _shared
    if _shared is None:
        from backend.config.redis_clients import async_redis

        _shared = RedisBreaker(async_redis, on_event=record_model_event)
    return _shared
