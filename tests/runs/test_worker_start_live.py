"""A real worker says it is up as soon as Celery takes tasks, and loads the models after that (runs/worker_start.py).

Ready first: the worker is in the health check before litellm is imported, then its facts go ``loading`` →
``loaded``. With PATCHBAY_WARM_MODELS=false it stays ``on first use`` (litellm not imported). Stopped, it
withdraws at once."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pytest
import redis
from django.conf import settings

from backend.runs.worker_cmd import worker_argv
from backend.runs.worker_presence import FACTS_KEY
from tests.conftest import ROOT, _Tail

pytestmark = pytest.mark.live


def _facts(client: redis.Redis, hostname: str) -> str | None:
    raw = client.hget(FACTS_KEY, hostname)
    return None if raw is None else raw.decode()


def _wait(condition: Callable[[], object], timeout: float, what: str, log: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {timeout} s:\n" + "\n".join(log[-30:])
        time.sleep(0.05)


def _start(hostname: str, **env: str) -> tuple[subprocess.Popen, list[str]]:  # type: ignore[type-arg]
    log: list[str] = []
    worker = subprocess.Popen(
        worker_argv(concurrency=2, queue=f"start-live-{os.getpid()}", hostname=hostname, heartbeat=False),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "INFO", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _Tail(worker.stdout, log).start()
    return worker, log


def test_a_worker_is_ready_before_its_models_then_loads_them_and_withdraws_when_stopped() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    hostname = f"start-live-warm-{os.getpid()}@test"
    worker, log = _start(hostname)
    try:
        _wait(lambda: _facts(client, hostname), 90, "no presence", log)
        first = _facts(client, hostname)
        assert first in ('{"models": "loading"}', '{"models": "loaded"}'), first
        _wait(lambda: _facts(client, hostname) == '{"models": "loaded"}', 90, "models not loaded", log)
        ready_at = next(i for i, line in enumerate(log) if " ready." in line)
        loaded_at = next(i for i, line in enumerate(log) if "model gateway loaded in" in line)
        assert ready_at < loaded_at, log  # Celery took tasks before the models were there
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert _facts(client, hostname) is None  # withdrawn on the way out, not three beats later


def test_a_worker_told_not_to_warm_loads_no_models_until_a_run_needs_them() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    hostname = f"start-live-lazy-{os.getpid()}@test"
    worker, log = _start(hostname, PATCHBAY_WARM_MODELS="false")
    try:
        _wait(lambda: _facts(client, hostname), 90, "no presence", log)
        time.sleep(2 * settings.PATCHBAY_HEARTBEAT_SECONDS)  # a few beats later: still not loaded
        assert _facts(client, hostname) == '{"models": "on first use"}'
        assert not any("model gateway loaded" in line for line in log)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
