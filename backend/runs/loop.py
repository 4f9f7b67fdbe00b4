"""One asyncio loop per worker process, fed by Celery's threads.

Runs spend their time waiting on models. The worker uses the ``threads`` pool
with high concurrency (PATCHBAY_WORKER_CONCURRENCY, default 64): each Celery
thread hands its run to this process-wide loop and waits. All runs in the
process share one loop, so litellm's HTTP clients and the channel layer's
Redis pool are made once and reused, and a worker with 2 processes holds
2 × 64 runs at once rather than 2.
"""
from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

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
