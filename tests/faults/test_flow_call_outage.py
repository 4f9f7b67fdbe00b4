"""A flow call with an Idempotency-Key while the broker is down: 503, and a retry with the same key starts afresh.

Real processes on a private Redis (tests/faults/conftest.py): Daphne, a Celery
worker, and ``bench/fake_openai.py``. Only the private Redis is killed.
"""
from __future__ import annotations

import httpx
import pytest

from backend.endpoints.models import IdempotencyRecord
from backend.providers.models import ModelAlias
from backend.runs.models import Run

from ..endpoints.conftest import create_graph, make_key, publish, tagged_spec
from .conftest import FaultStack
from .services import wait_until

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_flow_call_refused_while_the_broker_is_down_does_not_pin_its_idempotency_key(  # type: ignore[no-untyped-def]
        fault_stack: FaultStack, fake_openai, alice_api) -> None:
    fake_openai.configure(latency_ms=50, fail_first_n=0, hang_rate=0.0)
    ModelAlias.objects.create(alias="slow", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=60)
    publish(alice_api, create_graph(alice_api, tagged_spec("one", model="slow")), "ask")
    key = make_key(alice_api)["key"]
    fault_stack.worker()
    http = httpx.Client(base_url=fault_stack.web(), timeout=30)
    call = {"json": {"input": {"text": "hello"}, "mode": "sync"},
            "headers": {"Authorization": f"Bearer {key}", "Idempotency-Key": "order-42"}}

    fault_stack.redis.kill()
    refused = http.post("/api/v1/flows/ask/run", **call)
    assert refused.status_code == 503 and refused.json()["error"] == "service_unavailable", refused.text[:300]
    assert int(refused.headers["Retry-After"]) > 0
    failed = Run.objects.get()  # stored, then failed at once: nothing ran, nothing stays queued
    assert failed.status == "failed" and failed.error == "the queue was unavailable; nothing ran"
    assert not IdempotencyRecord.objects.exists()

    fault_stack.redis.start()
    retried = wait_until(lambda: (r := http.post("/api/v1/flows/ask/run", **call)).status_code != 503 and r, 30,
                         "broker back")
    assert retried.status_code == 200, retried.text[:300]
    assert retried.json()["status"] == "succeeded" and "Idempotent-Replayed" not in retried.headers
    assert retried.headers["X-Run-Id"] != str(failed.pk)
    # The key now names the run that succeeded: a second retry replays it.
    again = http.post("/api/v1/flows/ask/run", **call)
    assert again.headers["X-Run-Id"] == retried.headers["X-Run-Id"] and again.headers["Idempotent-Replayed"] == "true"
