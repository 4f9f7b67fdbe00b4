"""``GET /api/health/``: 200 only when the web, PostgreSQL, Redis and at least one worker are ready; else 503 and why."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.test import Client

from backend.runs import worker_presence
from backend.runs.worker_presence import FACTS_KEY, WORKERS_KEY, announce

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_workers() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    saved = client.zrange(WORKERS_KEY, 0, -1, withscores=True), client.hgetall(FACTS_KEY)
    client.delete(WORKERS_KEY, FACTS_KEY)
    yield client
    client.delete(WORKERS_KEY, FACTS_KEY)
    if saved[0]:
        client.zadd(WORKERS_KEY, dict(saved[0]))
        client.hset(FACTS_KEY, mapping=saved[1])


def test_without_a_worker_it_is_not_ready_and_says_so(no_workers: redis.Redis) -> None:
    response = Client().get("/api/health/")
    assert response.status_code == 503
    assert response["Retry-After"] and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "not_ready" and body["error"] == "not_ready"
    assert body["database"] == "ready" and body["redis"] == "ready" and body["workers"] == 0
    assert [p["path"] for p in body["problems"]] == ["workers"]
    assert "no worker" in body["message"]


def test_with_a_fresh_worker_it_is_ready_and_counts_models(no_workers: redis.Redis) -> None:
    announce("w1@host", models="loading")
    announce("w2@host", models="loaded")
    response = Client().get("/api/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready" and body["problems"] == []
    assert body["workers"] == 2 and body["models"] == {"loading": 1, "loaded": 1}
    assert "w1@host" not in response.content.decode()  # counts, never hostnames


def test_redis_down_is_a_503_naming_redis(no_workers: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unreachable = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    monkeypatch.setattr(worker_presence, "sync_redis", lambda: unreachable)
    body = Client().get("/api/health/").json()
    assert body["redis"] == "unavailable" and [p["path"] for p in body["problems"]] == ["redis"]


def test_it_only_answers_reads() -> None:
    assert Client().post("/api/health/").status_code == 405
    assert Client().head("/api/health/").status_code in (200, 503)
