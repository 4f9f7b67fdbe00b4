"""A worker holding a callback delivery survives a Redis restart (the task is acked when it starts)."""
from __future__ import annotations

import time

import pytest
from kombu import Connection

from backend.endpoints.tasks import deliver_callback

from .conftest import FaultStack
from .services import wait_until

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

NO_SUCH_RUN = "00000000-0000-0000-0000-000000000000"  # no delivery row: each attempt ends at once ("none")


def taken(worker, count: int) -> None:  # type: ignore[no-untyped-def]
    wait_until(lambda: sum("endpoints.deliver_callback" in line and "succeeded" in line for line in worker.lines)
               >= count or not worker.alive(), 30, f"{count} deliveries done")


def send(stack: FaultStack, countdown: float | None = None) -> None:
    with Connection(stack.redis.url()) as broker:
        deliver_callback.apply_async((NO_SUCH_RUN,), connection=broker, queue=stack.queue, countdown=countdown)


def test_a_worker_holding_a_delivery_retry_survives_a_redis_restart(fault_stack: FaultStack) -> None:
    worker = fault_stack.worker()
    send(fault_stack)
    send(fault_stack, countdown=60)  # a retry waiting in the worker, unacked, like a receiver's backoff
    taken(worker, 1)
    wait_until(lambda: sum("endpoints.deliver_callback" in line and "received" in line for line in worker.lines) >= 2,
               30, "the retry is held")
    fault_stack.redis.kill()
    time.sleep(3)
    fault_stack.redis.start()

    send(fault_stack)  # the same worker takes new work once it has reconnected
    taken(worker, 2)
    assert worker.alive(), worker.tail(60)
