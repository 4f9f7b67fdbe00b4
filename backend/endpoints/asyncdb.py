"""ORM calls from the async flow views, on a small pool of their own.

A bounded pool keeps database connections bounded however many callers are
waiting on runs, and its threads are long-lived, so their connections are
reused (``CONN_MAX_AGE``); ``refresh_connections`` before each call does
what Django's request cycle would do for a broken or expired one (config/db_refresh.py).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async

from backend.config.db_refresh import refresh_connections

POOL_SIZE = 12
_pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="patchbay-endpoints-db")


def _fresh(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        refresh_connections()
        return fn(*args, **kwargs)

    return call


# A module's function -> its runner. Making a SyncToAsync inspects and wraps the function (~3 % of the web's CPU
# per flow call when made per call); it keeps no state between calls, so one per function serves every call.
# A nested function or a bound method is a new object per call: its runner is not kept.
_runners: dict[Callable[..., Any], Callable[..., Any]] = {}


def db(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``await db(fn)(*args)``: run ORM code on the endpoints' pool."""
    runner = _runners.get(fn)
    if runner is None:
        runner = sync_to_async(_fresh(fn), thread_sensitive=False, executor=_pool)
        if inspect.isfunction(fn) and "<locals>" not in fn.__qualname__:
            _runners[fn] = runner
    return runner
