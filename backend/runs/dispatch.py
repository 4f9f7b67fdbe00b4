"""Sending a run to the workers: its "enqueued" marker and its Celery message in one Redis round trip.

``execute_run.apply_async`` cost the web ~1.2 ms of CPU per run on a quiet machine (2 ms under load), most of
it outside Celery's message: kombu's publish retry wrapper, its queue-declare cache, and a new redis-py client
made for every publish (kombu's Redis channel does not keep one); then the marker needed a round trip of its
own. Here the message is still Celery's own (``app.amqp.as_task_v2``: the same headers, body and properties a
worker expects), wrapped as kombu's Redis transport stores it, and pushed with the marker in one
``MULTI``/``EXEC`` on the process's Redis client: a connection lost before ``EXEC`` writes neither, so a run is
not left marked enqueued without its message (the sweep, runs/liveness.py, would wait for nothing).

That holds when the broker is the Redis of ``REDIS_URL`` (the default: settings derive CELERY_BROKER_URL from
it). A deployment that points CELERY_BROKER_URL elsewhere gets the marker on ``REDIS_URL`` and the message
through ``apply_async``, as before. A test holds the envelope to what ``apply_async`` puts on the queue.
"""
from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from kombu.utils.json import dumps

from backend.config.env import redis_endpoints
from backend.config.redis_clients import sync_redis

from .liveness import enqueued_key

TASK = "runs.execute_run"


@functools.cache
def broker_is_redis_url() -> bool:
    """True when Celery's broker is the Redis server of REDIS_URL (the marker and the queue share it)."""
    return str(settings.CELERY_BROKER_URL) == redis_endpoints(settings.REDIS_URL)[0]


def run_message(run_id: str, queue: str, callbacks: list[dict[str, Any]] | None = None) -> bytes:
    """The ``execute_run(run_id)`` message as kombu's Redis transport keeps it in the list named ``queue``
    (default exchange, priority 0: the list is the queue itself)."""
    from backend.config.celery import app

    from .tasks import execute_run

    task_id = str(uuid.uuid4())
    headers, properties, body, _ = app.amqp.as_task_v2(
        task_id, TASK, args=(run_id,), kwargs={}, callbacks=callbacks, reply_to=app.thread_oid,
        ignore_result=execute_run.ignore_result)
    return dumps({
        "body": base64.b64encode(dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {**properties, "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue},
                       "priority": 0, "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())},
    }).encode()


def send_run(run_id: Any, then: Callable[[str], Any] | None = None) -> None:
    """Mark the run enqueued and send its message; ``then(run_id)`` may give a Celery signature to run after
    it. Raises the client's error (redis.ConnectionError, kombu's OperationalError) when the broker is down."""
    key, ttl = enqueued_key(run_id), settings.PATCHBAY_QUEUED_GIVE_UP_SECONDS
    link = then(str(run_id)) if then else None
    if not broker_is_redis_url():
        from .tasks import execute_run

        sync_redis().set(key, "1", ex=ttl)
        execute_run.apply_async((str(run_id),), link=link)
        return
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    message = run_message(str(run_id), queue, [dict(link)] if link is not None else None)
    with sync_redis().pipeline(transaction=True) as pipe:
        pipe.set(key, "1", ex=ttl)
        pipe.lpush(queue, message)
        pipe.execute()
