"""The project's ASGI app with counters, for ``bench/web_cpu.py`` only: what one web process does per call.

Counts, in this process: SQL statements (Django's execute wrappers), commits, connection health checks
(each a round trip), and thread hops (``asgiref``'s ``SyncToAsync`` calls: ORM work and sync middleware).
``GET /__bench/counts`` answers them as JSON, ahead of the project's app. Not a package module: the bench puts
this directory on ``PYTHONPATH`` so the same file wraps any tree's ``backend``.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from asgiref.sync import SyncToAsync
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.backends.signals import connection_created

from backend.config.asgi import application as project_application  # sets Django up

_lock = threading.Lock()
counts = {"connects": 0, "statements": 0, "commits": 0, "health_checks": 0, "thread_hops": 0}


def _bump(name: str) -> None:
    with _lock:
        counts[name] += 1


def _count_statement(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    _bump("statements")
    return execute(sql, params, many, context)


def _watch(connection: Any, **_: Any) -> None:
    _bump("connects")
    if _count_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_statement)


connection_created.connect(_watch, dispatch_uid="bench_web_cpu_statements")

_commit, _is_usable, _hop = BaseDatabaseWrapper.commit, DatabaseWrapper.is_usable, SyncToAsync.__call__


def _counted_commit(self: Any) -> Any:
    _bump("commits")
    return _commit(self)


def _counted_is_usable(self: Any) -> Any:
    _bump("health_checks")
    return _is_usable(self)


async def _counted_hop(self: Any, *args: Any, **kwargs: Any) -> Any:
    _bump("thread_hops")
    return await _hop(self, *args, **kwargs)


BaseDatabaseWrapper.commit = _counted_commit  # type: ignore[method-assign]
DatabaseWrapper.is_usable = _counted_is_usable  # type: ignore[method-assign]
SyncToAsync.__call__ = _counted_hop  # type: ignore[method-assign]


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/__bench/counts":
        with _lock:
            body = json.dumps(counts).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    await project_application(scope, receive, send)
