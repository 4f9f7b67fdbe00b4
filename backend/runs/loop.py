"""One asyncio loop per worker process, fed by Celery's threads.

Runs spend their time waiting on models. The worker uses the ``threads`` pool
with high concurrency (PATCHBAY_WORKER_CONCURRENCY, default 64): each Celery
thread hands its run to this process-wide loop and waits. All runs in the
process share one loop, so litellm's HTTP clients and the channel layer's
Redis pool are made once and reused, and a worker with 2 processes holds
2 × 64 runs at once rather than 2.

Every ORM call the loop makes goes through ``db_call``: its threads live as
long as the process, so a connection PostgreSQL dropped (a restart, a
failover) would otherwise stay broken in them for good.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection

from backend.config.db_refresh import refresh_connections

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger(__name__)

# Threads for the ORM calls the loop makes (events, spans, run rows).
DB_THREADS = 8

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None


def _start() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="patchbay-db"))
    thread = threading.Thread(target=loop.run_forever, name="patchbay-run-loop", daemon=True)
    thread.start()
    return loop


def run_loop() -> asyncio.AbstractEventLoop:
    global _loop, _pid
    # A forked child inherits the variable but not the thread: start afresh per process.
    if _loop is None or _pid != os.getpid():
        with _lock:
            if _loop is None or _pid != os.getpid():
                _loop, _pid = _start(), os.getpid()
    return _loop


def run_on_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the shared loop and block the calling thread until it ends."""
    return asyncio.run_coroutine_threadsafe(coro, run_loop()).result()


def recovering(fn: Callable[P, T]) -> Callable[P, T]:
    """Wrap a sync ORM call so it survives a connection the database dropped.

    Before the call, drop this thread's connection if it is broken or past
    CONN_MAX_AGE (what Django's request cycle does for views; config/db_refresh.py). If the call
    still fails on a dead connection, reconnect and try once more: the calls
    wrapped here are single transactions, so a retry repeats nothing that was
    committed. A database that stays down raises; callers decide what then.
    """

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        refresh_connections()
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block:  # an outer transaction owns the connection: let it roll back
                raise
            log.warning("database call %s failed (%s); reconnecting and retrying once", fn.__name__, exc)
            connection.close()
            return fn(*args, **kwargs)

    return call


def db_call(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """``await db_call(fn)(*args)``: run ORM code on the loop's database threads, recovering dropped connections."""
    return sync_to_async(recovering(fn), thread_sensitive=False)
