"""Admitting a published call, for every route that starts one (flow_views.py, openai_views.py): the key, the
endpoint and what it serves, the route's own checks of the request, the rate limit and the run's start, in the
order a caller sees them, all in one hop to the endpoints' database pool.

One hop because each hop costs the web process a thread handoff and a wake-up of the loop; on the database
thread the key and endpoint come from call_cache.py and the limiter and the live-deltas mark use the sync
Redis client (about half the CPU of ``redis.asyncio`` on the loop). The routes differ only in how a request
becomes a run (``Plan``) and in the shape of their answers; every rule of admission is here once.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from backend.config.unavailable import is_outage
from backend.runs.live_deltas import want_request_deltas

from . import ratelimit
from .auth import authenticate_api_key
from .call_cache import authorize
from .calls import Call
from .errors import CallRefused
from .models import ApiKey, Endpoint
from .services import Started, flow_call_start

if TYPE_CHECKING:
    from backend.graphs.models import GraphVersion
    from backend.releases.models import Release


@dataclass(frozen=True)
class Plan:
    """What a route makes of a request once its endpoint is known."""

    call: Call
    idempotency_key: str | None = None
    version: GraphVersion | None = None  # one the endpoint served (``slug@3``); None: what it serves now


@dataclass(frozen=True)
class Admitted:
    key: ApiKey
    endpoint: Endpoint
    release: Release | None  # what the endpoint serves now (call_cache.py)
    limit: ratelimit.Decision | None  # None: the key has no rate limit
    started: Started


# A route's checks of its request, given the endpoint it names and that endpoint's serving release: the Plan, or
# the refusal (400/404/413/422); never I/O beyond the database thread it runs on.
Planner = Callable[[Endpoint, "Release | None"], Plan]


def admit_and_start(header: str | None, slug: str | None, plan: Planner | Exception, *, request_id: str,
                    source: str = "endpoint") -> Admitted:
    """On a database thread, in the order a caller sees: the key (401) and the endpoint ``slug`` names (403/404),
    then the request (``plan``: what reading it raised, or the route's checks), then the rate limit (429/503), then
    the run (``flow_call_start``: spend caps, Idempotency-Key replays, the broker). ``slug`` None: the request
    could not be read far enough to name one, so only the key is checked before ``plan`` (then an exception) is
    raised. A caller without a valid key learns nothing about its request from the answer."""
    if slug is None:
        authenticate_api_key(header)
        assert isinstance(plan, Exception), "a request that names no endpoint is refused"
        raise plan
    key, endpoint, release = authorize(header, slug)
    if isinstance(plan, Exception):
        raise plan
    planned = plan(endpoint, release)
    limit = rate_limit(key)
    if planned.call.mode == "stream":
        want_request_deltas(request_id)  # before the run exists: its first model call streams
    try:
        started = flow_call_start(key=key, endpoint=endpoint, call=planned.call, request_id=request_id,
                                  idempotency_key=planned.idempotency_key, source=source, version=planned.version,
                                  serving=release)
    except Exception as exc:
        if limit is not None and is_outage(exc):  # a 503: the call started nothing, so it does not count
            _uncount(key, limit)
        raise
    return Admitted(key, endpoint, release, limit, started)


def rate_limit(key: ApiKey) -> ratelimit.Decision | None:
    """Count this call against the key's per-minute limit: its decision (for the RateLimit-* headers), None for
    a key without a limit, or ``CallRefused`` (429 with Retry-After; 503 when Redis cannot answer)."""
    if key.rate_limit_per_minute is None:
        return None
    try:
        decision = ratelimit.hit(key.prefix, key.rate_limit_per_minute)
    except RedisError:
        raise CallRefused(503, "unavailable", "The rate limiter is unavailable; try again shortly.",
                          headers={"Retry-After": "5"}) from None
    if not decision.allowed:
        raise CallRefused(429, "rate_limited", f"API key '{key.name}' ({key.prefix}) allows "
                          f"{decision.limit} run calls per minute; try again in {decision.reset_s} s.",
                          headers=decision.headers())
    return decision


def _uncount(key: ApiKey, decision: ratelimit.Decision) -> None:
    """A call counted by ``rate_limit`` that an outage then refused: a client retrying through a database or
    broker outage as Retry-After tells it is not locked out of its limit once the service is back."""
    try:
        ratelimit.uncount(key.prefix, decision)
    except RedisError:  # Redis is the service that is down: the entry leaves the window within the minute
        pass
