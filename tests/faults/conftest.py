"""A stack of real processes on private services, for tests that kill or stop those services.

``fault_stack`` gives a private Redis (broker, channel layer, heartbeats) and
starts Celery workers and a Daphne server on demand, all on the test database
(or on a private PostgreSQL a test passes in). Only these private processes are
ever signalled.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from backend.config.web_cmd import web_argv
from backend.runs.worker_cmd import worker_argv
from bench._stack import Child, wait_for_port

from ..conftest import ROOT, free_port, live_workers_sweep_held, worker_warm
from .services import PrivateRedis, wait_until

BEAT_S = 1  # fast heartbeats keep the tests short; bench/dead_worker.py measures the default


@dataclass
class FaultStack:
    redis: PrivateRedis
    database_url: str
    queue: str
    children: list[Child] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis.url(),
                "PATCHBAY_QUEUE": self.queue, "PATCHBAY_HEARTBEAT_SECONDS": str(BEAT_S), "PYTHONPATH": str(ROOT),
                "LOG_LEVEL": "INFO", "SECRET_KEY": "faults-only-not-secret", **extra}

    def worker(self, name: str = "w") -> Child:
        hostname = f"fault-{name}-{os.getpid()}@%h"
        child = Child(f"worker {name}", worker_argv(concurrency=8, hostname=hostname, heartbeat=False), self.env())
        self.children.append(child)
        wait_until(lambda: worker_warm(self.redis.url(), hostname) or not child.alive(), 90, "worker start")
        assert child.alive(), child.tail()
        return child

    def web(self) -> str:
        port = free_port()
        child = Child("web server", web_argv(host="127.0.0.1", port=port), self.env())
        self.children.append(child)
        wait_for_port(port, child.alive)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for child in self.children:
            child.stop()


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def fault_stack(transactional_db: None) -> Iterator[FaultStack]:
    redis = PrivateRedis()
    redis.start()
    stack = FaultStack(redis, _database_url(), f"pb-faults-{os.getpid()}")
    try:
        # The stack's workers beat in the private Redis: the session's live worker, sweeping the same database
        # with the session's Redis, would fail every run of theirs that lasts over 6 s as lost.
        with live_workers_sweep_held():
            yield stack
    finally:
        from backend.runs.models import Run

        stack.stop()
        redis.close()
        # Nothing is left to write into the next test's database once the workers are gone.
        Run.objects.filter(status__in=["queued", "running"]).update(status="cancelled")
