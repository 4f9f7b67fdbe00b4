"""A run's message and its "enqueued" marker go to Redis in one round trip (runs/dispatch.py)."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import signature
from django.conf import settings
from django.test import override_settings

from backend.config.redis_clients import sync_redis
from backend.runs import dispatch
from backend.runs.dispatch import broker_is_redis_url, run_message, send_run
from backend.runs.liveness import enqueued_key
from backend.runs.tasks import execute_run

RANDOM_HEADERS = ("id", "root_id")  # a fresh task id per message
RANDOM_PROPERTIES = ("correlation_id", "delivery_tag")


@pytest.fixture
def scratch_queue() -> Iterator[str]:
    """A queue no worker reads, emptied afterwards."""
    name = f"test-dispatch-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(name, f"_kombu.binding.{name}")


def _taken(queue: str) -> dict[str, Any]:
    raw = redis.Redis.from_url(settings.REDIS_URL).rpop(queue)
    assert raw is not None, f"nothing on {queue}"
    return json.loads(raw)


def _comparable(envelope: dict[str, Any]) -> dict[str, Any]:
    headers = {k: v for k, v in envelope["headers"].items() if k not in RANDOM_HEADERS}
    properties = {k: v for k, v in envelope["properties"].items() if k not in RANDOM_PROPERTIES}
    return {**envelope, "headers": headers, "properties": properties,
            "body": json.loads(base64.b64decode(envelope["body"]))}


@pytest.mark.parametrize("link", [None, signature("runs.push_otlp")])
def test_the_message_is_the_one_celery_puts_on_the_queue(scratch_queue: str, link: Any) -> None:
    execute_run.apply_async(("run-1",), queue=scratch_queue, link=link)
    celerys = _taken(scratch_queue)
    ours = json.loads(run_message("run-1", scratch_queue, [dict(link)] if link is not None else None))

    assert _comparable(ours) == _comparable(celerys)
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    assert ours["properties"]["delivery_tag"] != celerys["properties"]["delivery_tag"]


def test_send_run_marks_the_run_and_queues_its_message_together(scratch_queue: str) -> None:
    run_id = str(uuid.uuid4())
    client = sync_redis()
    assert broker_is_redis_url()  # the default: CELERY_BROKER_URL comes from REDIS_URL
    with override_settings(CELERY_TASK_DEFAULT_QUEUE=scratch_queue):
        send_run(run_id)
    try:
        ttl = client.ttl(enqueued_key(run_id))
        assert 0 < ttl <= settings.PATCHBAY_QUEUED_GIVE_UP_SECONDS
        message = _taken(scratch_queue)
        assert message["headers"]["task"] == "runs.execute_run"
        assert json.loads(base64.b64decode(message["body"]))[0] == [run_id]
        assert message["properties"]["delivery_info"]["routing_key"] == scratch_queue
    finally:
        client.delete(enqueued_key(run_id))


def test_a_broker_apart_from_redis_url_gets_the_message_through_celery(
        scratch_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(dispatch, "broker_is_redis_url", lambda: False)
    monkeypatch.setattr(execute_run, "apply_async", lambda args, **kw: sent.append(args))
    run_id = str(uuid.uuid4())
    try:
        send_run(run_id)
        assert sent == [(run_id,)]
        assert sync_redis().exists(enqueued_key(run_id))
    finally:
        sync_redis().delete(enqueued_key(run_id))


def test_the_broker_is_redis_url_only_when_it_is_the_same_server() -> None:
    broker_is_redis_url.cache_clear()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:6379/3", CELERY_BROKER_URL="redis://127.0.0.1:6379/3"):
            assert broker_is_redis_url()
        broker_is_redis_url.cache_clear()
        with override_settings(REDIS_URL="unix:///tmp/r.sock", CELERY_BROKER_URL="redis+socket:///tmp/r.sock"):
            assert broker_is_redis_url()
        broker_is_redis_url.cache_clear()
        with override_settings(REDIS_URL="redis://127.0.0.1:6379/3", CELERY_BROKER_URL="redis://broker:6379/0"):
            assert not broker_is_redis_url()
    finally:
        broker_is_redis_url.cache_clear()
