"""ORM calls from the async flow views, on a small pool of their own.

A bounded pool keeps database connections bounded however many callers are
waiting on runs, and its threads are long-lived, so their connections are
reused (``CONN_MAX_AGE``); ``refresh_connections`` before each call does
what Django's request cycle would do for a broken or expired one (config/db_refresh.py).
"""
from __future__ import annotations

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


def db(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``await db(fn)(*args)``: run ORM code on the endpoints' pool."""
    return sync_to_async(_fresh(fn), thread_sensitive=False, executor=_pool)
