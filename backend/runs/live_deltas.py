"""Whether anyone reads a run's token deltas live, so the worker streams model answers only then.

Streaming an answer through litellm costs about three times the CPU of asking
for it whole (~17 ms against ~5 ms per call here, most of it litellm building
an object per chunk), and ``node.delta`` events are live-only: never stored,
only sent to whoever follows the run at that moment. Runs started from the
canvas, the REST API, a replay or the CLI always stream (their readers are
people watching). A run started by a published endpoint or the OpenAI routes
streams only when someone asked for its deltas:

* a stream-mode call (SSE, ``stream: true``) marks its request id *before*
  the run is created, so its first model call already streams;
* any follower that takes deltas (websocket, SSE) marks the run when it joins;
  from the next model call on, answers stream (the call in flight when it
  joined finishes whole: its text arrives with ``node.completed`` as always).

A sync or async call has no live reader, so its runs ask for answers whole:
the same spans, outputs, usage and stored events, no ``node.delta``. When Redis
cannot answer, the worker streams (the behaviour before this module). The marks
are read in the circuit breaker's round trip before each call when the route has
a breaker (``DeltasCheck.keys``), else with an ``MGET`` of their own.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError

from backend.config.redis_clients import async_redis, sync_redis

log = logging.getLogger(__name__)

MARK_TTL_S = 3600  # longer than a run may last (and than a follower stays)
# Runs whose readers are programs that said whether they stream; every other source always streams.
CALLED_SOURCES = frozenset({"endpoint", "openai"})


def _run_key(run_id: Any) -> str:
    return f"patchbay:deltas:run:{run_id}"


def _request_key(request_id: str) -> str:
    return f"patchbay:deltas:request:{request_id}"


def want_request_deltas(request_id: str) -> None:
    """A stream-mode call: the run it is about to start streams its answers. Best effort. Sync: the call is
    admitted on a database thread (endpoints/admission.py), where the sync client is the cheaper one."""
    try:
        sync_redis().set(_request_key(request_id), "1", ex=MARK_TTL_S)
    except RedisError:
        log.info("could not mark request %s for live deltas (the worker streams when Redis is away)", request_id)


async def want_run_deltas(run_id: Any) -> None:
    """A follower that shows deltas joined: the run's next model calls stream. Best effort."""
    try:
        await async_redis().set(_run_key(run_id), "1", ex=MARK_TTL_S)
    except RedisError:
        log.info("could not mark run %s for live deltas", run_id)


class DeltasCheck:
    """The gateway's ``stream_when`` for one run: are the run's or its request's marks set?

    Callable on its own (one ``MGET``), and it names its ``keys`` so the gateway can read them in the round trip
    it makes anyway before a call (the circuit breaker's, providers/breaker.py) and decide with ``wanted``.
    """

    def __init__(self, keys: tuple[str, ...]):
        self.keys = keys

    @staticmethod
    def wanted(values: Sequence[Any]) -> bool:
        return any(values)

    async def __call__(self) -> bool:
        try:
            return self.wanted(await async_redis().mget(list(self.keys)))
        except RedisError:
            return True


def deltas_wanted_check(run_id: Any, source: str, request_id: str) -> DeltasCheck | None:
    """The gateway's ``stream_when`` for one run: None (always stream) unless an endpoint or OpenAI call made it."""
    if source not in CALLED_SOURCES:
        return None
    return DeltasCheck((_run_key(run_id),) + ((_request_key(request_id),) if request_id else ()))
