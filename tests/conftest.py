"""Shared fixtures: people (alice, bob), API clients, and the live stack.

The live stack is real: a Celery worker (threads pool) and a Daphne ASGI
server as subprocesses on the test PostgreSQL database and Redis, plus the
project's fake OpenAI-compatible server over HTTP for provider tests.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backend.config.web_cmd import web_argv
from backend.runs.worker_cmd import worker_argv

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


@contextlib.contextmanager
def live_workers_sweep_held(hold_s: float = 600) -> Iterator[None]:
    """Keep the session's live worker (``live_processes``) from sweeping the test database meanwhile.

    That worker sweeps the test database every beat and reads heartbeats in the session's Redis, so it fails as
    lost any run running longer than its heartbeat's lifetime (6 s) whose heartbeat is elsewhere: a fault drill's
    runs (their workers beat in a private Redis) or runs made to look lost on purpose. Hold the sweep's lock in
    the session's Redis as a sweeping worker does (runs/liveness.py: sweep): the live worker skips its turns.
    """
    from backend.config.redis_clients import sync_redis
    from backend.runs.liveness import SWEEP_LOCK

    client = sync_redis()
    deadline = time.monotonic() + 10
    while not client.set(SWEEP_LOCK, "tests", nx=True, px=int(hold_s * 1000)):  # a worker's turn ends in a beat
        assert time.monotonic() < deadline, "the sweep's lock was not free within 10 s"
        time.sleep(0.05)
    try:
        yield
    finally:
        client.delete(SWEEP_LOCK)


# Under pytest-xdist (`make test` runs two worker processes, `--dist loadgroup`), the tests below run one at a time,
# all on one worker, beside whatever the other worker runs. Each starts a stack of processes of its own (Chromium
# on top of the live stack; serve's or a fault drill's own PostgreSQL, Redis, Celery workers and web server) and
# waits for them with deadlines: two such stacks at once on a 2-core machine is where a deadline would be missed
# or a browser gesture lost. The rest of the suite shares nothing across workers (tests/settings.py). `make test`
# goes further for the browser tests: it runs them after the rest, alone, in one process (Makefile).
ONE_AT_A_TIME = ("tests/e2e/", "tests/faults/", "tests/runs/test_serve.py", "tests/config/test_embedded.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(ROOT).as_posix()
        if path.startswith(ONE_AT_A_TIME):
            item.add_marker(pytest.mark.xdist_group("one_stack_at_a_time"))
        if path.startswith("tests/e2e/"):
            item.add_marker(pytest.mark.browser)  # `make test` runs these alone, after the rest (Makefile)


@pytest.fixture(scope="session")
def _services_configured() -> None:
    if not os.environ.get("DATABASE_URL"):
        pytest.exit("This test needs PostgreSQL and Redis: use `make test` (or set DATABASE_URL and REDIS_URL as the "
                    "Makefile does). Only tests/engine runs without them.", returncode=3)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if (worker and os.environ.get("REDIS_URL", "").startswith(("redis://", "rediss://"))
            and os.environ.get("PATCHBAY_TEST_SERVICES_OF") != worker):
        # Without tests/settings.py's own Redis db and Celery queue per xdist worker, one worker's live Celery
        # worker takes the other's runs (on another test database) and every live test waits out its timeouts.
        # (pytest.fail, not pytest.exit: an exit inside an xdist worker ends as an INTERNALERROR that hides this text)
        pytest.fail(f"pytest-xdist worker {worker} shares Redis and its Celery queue with the others: the settings "
                    f"module is {os.environ.get('DJANGO_SETTINGS_MODULE')!r}, not tests.settings (which gives each "
                    "worker its own). Unset DJANGO_SETTINGS_MODULE or run with -p no:xdist.", pytrace=False)


@pytest.fixture(scope="session")
def django_db_setup(_services_configured: None, django_db_setup: None) -> None:
    """pytest-django's test database, held to PostgreSQL. Only tests that use the database ask for it,
    so tests/engine (no database, no Redis) runs on a machine with neither."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.exit("The test suite runs on PostgreSQL and Redis: use `make test` (or set DATABASE_URL and "
                    "REDIS_URL as the Makefile does).", returncode=3)


@pytest.fixture
def alice(db):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from backend.graphs.services import workspace_for_user

    user = get_user_model().objects.create_user("alice", password="alice-pass-123")
    workspace_for_user(user)
    return user


@pytest.fixture
def bob(db):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from backend.graphs.services import workspace_for_user

    user = get_user_model().objects.create_user("bob", password="bob-pass-123")
    workspace_for_user(user)
    return user


def token_for(user) -> str:  # type: ignore[no-untyped-def]
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def alice_api(alice):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(alice)}")
    return client


@pytest.fixture
def bob_api(bob):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(bob)}")
    return client


def worker_warm(redis_url: str, hostname: str) -> bool:
    """The worker has said it takes tasks and has loaded its models (backend/runs/worker_start.py)."""
    import redis
    from celery.utils.nodenames import host_format

    from backend.runs.worker_presence import FACTS_KEY

    try:
        facts = redis.Redis.from_url(redis_url, socket_timeout=2).hget(FACTS_KEY, host_format(hostname))
    except redis.RedisError:
        return False  # Redis not there (yet): not ready
    return facts is not None and b'"loaded"' in facts


@dataclass
class LiveStack:
    http_url: str
    ws_url: str
    worker_log: list[str]
    server_log: list[str] = field(default_factory=list)  # the ASGI server's output (Daphne and the app's logs)
    # Kill the worker (SIGKILL: nothing runs on the way out) and start a new one; returns when it is ready.
    restart_worker: Callable[[], None] = lambda: None


class _Tail(threading.Thread):
    """Keeps a subprocess's output (for readiness and for failure messages)."""

    def __init__(self, stream, lines: list[str]):  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.stream, self.lines = stream, lines

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip())


@pytest.fixture(scope="session")
def live_processes(django_db_setup: None, django_db_blocker) -> Iterator[LiveStack]:  # type: ignore[no-untyped-def]
    """A real Celery worker and a real ASGI server on the test database, for the whole session."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PATCHBAY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PYTHONPATH": str(ROOT),
    }
    import redis

    # Start from an empty model cache so cache hits in one test never come from an earlier session.
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("patchbay:cache:*"):
        client.delete(key)
    worker_log: list[str] = []
    workers: list[subprocess.Popen] = []  # type: ignore[type-arg]

    def start_worker() -> None:
        hostname = f"test-{os.getpid()}-{len(workers)}@%h"
        worker = subprocess.Popen(
            worker_argv(concurrency=32, hostname=hostname, heartbeat=False),
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        workers.append(worker)
        _Tail(worker.stdout, worker_log).start()
        deadline = time.monotonic() + 90
        # Ready, and its models loaded (it takes tasks before: runs would wait for them, and tests time runs).
        while not worker_warm(settings.REDIS_URL, hostname):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not start:\n" + "\n".join(worker_log[-40:]))
            time.sleep(0.1)

    def restart_worker() -> None:
        workers[-1].kill()
        workers[-1].wait(timeout=15)
        worker_log.clear()
        start_worker()

    port = free_port()
    server_log: list[str] = []
    server = subprocess.Popen(
        web_argv(host="127.0.0.1", port=port, log_level="info"), cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)  # info: the server log always has lines a leak check can read
    _Tail(server.stdout, server_log).start()
    try:
        start_worker()
        wait_for_port(port, 60)
        yield LiveStack(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", worker_log, server_log, restart_worker)
    finally:
        for process in (server, workers[-1]):
            process.terminate()
        for process in (server, workers[-1]):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


QUIET_TIMEOUT_S = 15


@pytest.fixture
def live_stack(live_processes: LiveStack, transactional_db: None) -> Iterator[LiveStack]:
    """The live stack for one test; afterwards, waits until the worker has finished that test's runs.

    The test database is emptied after each test; a worker still writing a run's last
    events at that moment would deadlock with the reset or write into the next test.
    """
    from backend.providers.registry import bump_registry_version

    # The reset after the last test deleted model aliases without signals: tell the worker and web
    # processes their cached routes are stale, so no test inherits another's override of an alias.
    bump_registry_version()
    yield live_processes
    from backend.runs.models import Run

    unfinished = Run.objects.filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING])
    unfinished.update(cancel_requested=True)  # stop long runs at their next step rather than wait them out
    deadline = time.monotonic() + QUIET_TIMEOUT_S
    while unfinished.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[object]:
    from bench.fake_openai import start_in_thread

    server = start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def listener() -> Iterator[object]:
    """An internal HTTP service that records every request (tests/engine/schema_sites.py)."""
    from tests.engine.schema_sites import Listener

    server = Listener()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fresh_circuit_breakers() -> None:
    """Every test starts with every model alias's circuit closed: breakers live in Redis, which outlives the
    per-test database reset, and one test's failures must not open another's circuit (providers/breaker.py)."""
    if not os.environ.get("REDIS_URL"):
        return  # tests/engine: no Redis
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=1)
    try:
        keys = list(client.scan_iter("patchbay:breaker:*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # no Redis here: nothing to reset
    finally:
        client.close()
