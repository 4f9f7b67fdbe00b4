"""The OpenAI-compatible routes while Redis or PostgreSQL is down: 503 in OpenAI's error shape, nothing left
half-done, and calls succeed again once the service is back, with no restart of the web server or the worker.

Real processes on private services (tests/faults/services.py, conftest.py): Daphne, a Celery worker and
``bench/fake_openai.py``, driven by the openai SDK and by httpx as a client would. Only the private Redis or
PostgreSQL is killed or stopped.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import pytest

from backend.endpoints.models import IdempotencyRecord
from backend.providers.models import ModelAlias
from backend.runs.models import Run

from ..endpoints.conftest import create_graph, make_key, publish
from .conftest import FaultStack
from .seed_private import CHAT, LIMITED_PER_MINUTE
from .services import PrivatePostgres, wait_until
from .test_postgres_restart import pg_stack, seed  # noqa: F401 (pg_stack: a fixture)

pytestmark = [pytest.mark.live]

FINISHED = {"succeeded", "failed", "budget_exceeded", "cancelled"}
PROMPT = [{"role": "user", "content": "What should I pack for a rainy hike?"}]
ANSWER_WITHIN_S = 5.0  # an answer during an outage comes at once, never after a hang


def sdk(url: str, key: str, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=timeout)


def chat_body(stream: bool = False) -> dict[str, Any]:
    return {"model": "chat", "messages": PROMPT, "stream": stream}


def responses_body(stream: bool = False) -> dict[str, Any]:
    return {"model": "chat", "input": PROMPT[0]["content"], "stream": stream}


def assert_unavailable(response: httpx.Response, took: float, what: str) -> None:
    """503 with OpenAI's error body (``{"error": {message, type, param, code}}``) and Retry-After, at once."""
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json"), f"{what}: {response.text[:300]}"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, what
    assert error["type"] == "service_unavailable" and error["code"] == "service_unavailable", (what, error)
    assert "try again" in error["message"], (what, error)
    assert int(response.headers["Retry-After"]) > 0, what
    assert took < ANSWER_WITHIN_S, f"{what}: answered after {took:.1f} s"


def timed(ask: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = ask()
    return response, time.monotonic() - began


@dataclass
class InFlightStream:
    """A streamed chat completion read in a thread, as a client would read it."""

    client: openai.OpenAI
    pieces: list[str] = field(default_factory=list)
    finish: list[str | None] = field(default_factory=list)
    run_id: str | None = None
    error: BaseException | None = None
    ended_at: float | None = None

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for chunk in self.client.chat.completions.create(model="chat", messages=PROMPT, stream=True):
                self.run_id = chunk.id
                if chunk.choices:
                    if chunk.choices[0].delta.content:
                        self.pieces.append(chunk.choices[0].delta.content)
                    self.finish.append(chunk.choices[0].finish_reason)
        except BaseException as error:  # an error chunk (openai.APIError) or a cut connection
            self.error = error
        finally:
            self.ended_at = time.monotonic()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the stream still runs after {timeout} s ({len(self.pieces)} pieces)"


class InFlightCall:
    """A whole-answer chat completion waited for in a thread: its completion, or what the SDK raised."""

    def __init__(self, client: openai.OpenAI):
        self.completion: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._call, args=(client,), daemon=True)
        self.thread.start()

    def _call(self, client: openai.OpenAI) -> None:
        try:
            self.completion = client.chat.completions.create(model="chat", messages=PROMPT)
        except BaseException as error:
            self.error = error

    def join(self, timeout: float, worker: Any = None) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the call is still waiting after {timeout} s"
        assert self.error is None, (repr(self.error), worker.tail(60) if worker is not None else "")
        return self.completion


def published_chat(fake_openai, alice_api, *, latency_ms: float) -> str:  # type: ignore[no-untyped-def]
    """The chat flow published on the test database (its model the fake at ``latency_ms``): a key to call it."""
    fake_openai.configure(latency_ms=latency_ms, chunk_delay_ms=0, fail_first_n=0, hang_rate=0.0, misbehave="")
    ModelAlias.objects.create(alias="slow", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=60)
    publish(alice_api, create_graph(alice_api, CHAT), "chat")
    return str(make_key(alice_api)["key"])


# ----------------------------------------------------------------------------------------------------------- Redis


@pytest.mark.django_db(transaction=True)
def test_a_redis_kill_answers_503_in_openai_shape_pins_nothing_and_calls_succeed_once_it_is_back(  # type: ignore[no-untyped-def]
        fault_stack: FaultStack, fake_openai, alice_api) -> None:
    key = published_chat(fake_openai, alice_api, latency_ms=50)
    worker = fault_stack.worker()
    url = fault_stack.web()
    client = sdk(url, key)
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    before = client.chat.completions.create(model="chat", messages=PROMPT)
    assert before.choices[0].message.content

    # A stream in flight when Redis dies: its live deltas are lost while Redis is away, the follower reads the
    # database, and the stream ends with the whole answer (the part not streamed live comes at the end), never
    # with the pieces that came live again after the restart glued onto the ones from before (~9 s of pieces: the
    # stream outlives the 3 s outage and the follower's return to the channel layer).
    fake_openai.configure(latency_ms=1000, chunk_delay_ms=800)
    in_flight = InFlightStream(client)
    wait_until(lambda: in_flight.pieces, 30, "the first streamed piece")
    fault_stack.redis.kill()
    killed_at = time.monotonic()

    idempotent = {"Idempotency-Key": "order-7"}
    outage = {
        "POST /v1/chat/completions": lambda: http.post("/v1/chat/completions", json=chat_body()),
        "POST /v1/chat/completions (stream)": lambda: http.post("/v1/chat/completions", json=chat_body(True)),
        "POST /v1/chat/completions (Idempotency-Key)": lambda: http.post("/v1/chat/completions", json=chat_body(),
                                                                         headers=idempotent),
        "POST /v1/responses (stream)": lambda: http.post("/v1/responses", json=responses_body(True)),
    }
    for what, ask in outage.items():
        assert_unavailable(*timed(ask), what)
    with pytest.raises(openai.APIStatusError) as refused:  # what the SDK makes of it
        client.chat.completions.create(model="chat", messages=PROMPT, stream=True)
    assert refused.value.status_code == 503 and refused.value.code == "service_unavailable"
    assert [m.id for m in client.models.list()] == ["chat"]  # the catalogue needs no Redis: it still answers
    refused_runs = Run.objects.filter(source="openai", created_at__gte=Run.objects.get(pk=before.id).created_at)
    refused_runs = refused_runs.exclude(pk__in=[before.id, in_flight.run_id])
    assert refused_runs.count() == len(outage) + 1  # each stored, then failed at once: none left queued
    assert {(r.status, r.error) for r in refused_runs} == {("failed", "the queue was unavailable; nothing ran")}
    assert not IdempotencyRecord.objects.exists()  # the key is not pinned to a run that never ran

    time.sleep(max(0.0, 3 - (time.monotonic() - killed_at)))
    fault_stack.redis.start()  # same port, empty: Redis here keeps nothing on disk

    in_flight.join(60)
    assert in_flight.error is None, (repr(in_flight.error), worker.tail(60))
    streamed = Run.objects.get(pk=in_flight.run_id)
    assert streamed.status == "succeeded", (streamed.error, worker.tail())
    assert "".join(in_flight.pieces) == streamed.output and in_flight.finish[-1] == "stop"

    # Back: the same web server and worker answer whole, streamed and idempotent calls.
    after = wait_until(lambda: (r := http.post("/v1/chat/completions", json=chat_body())).status_code != 503 and r,
                       30, "the /v1 routes back")
    assert after.status_code == 200, after.text[:300]
    fake_openai.configure(latency_ms=50, chunk_delay_ms=0)
    chunks = list(client.chat.completions.create(model="chat", messages=PROMPT, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and text == Run.objects.get(pk=chunks[0].id).output
    fresh = http.post("/v1/chat/completions", json=chat_body(), headers=idempotent)
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh.headers, fresh.text[:300]
    assert Run.objects.get(pk=fresh.json()["id"]).status == "succeeded"
    assert not Run.objects.filter(status__in=["queued", "running"]).exists()
    assert worker.alive(), worker.tail()


@pytest.mark.django_db(transaction=True)
def test_a_sync_call_on_a_10_second_model_outlives_a_redis_restart_and_its_run_ends(  # type: ignore[no-untyped-def]
        fault_stack: FaultStack, fake_openai, alice_api) -> None:
    key = published_chat(fake_openai, alice_api, latency_ms=10_000)
    worker = fault_stack.worker()
    caller = InFlightCall(sdk(fault_stack.web(), key, timeout=90))
    wait_until(lambda: Run.objects.filter(source="openai", status="running").exists(), 30, "the run starts")
    run = Run.objects.get(source="openai")
    time.sleep(2)  # the model call is under way
    fault_stack.redis.kill()
    time.sleep(3)
    fault_stack.redis.start()

    # The caller gets its answer: the waiter asks the database each second while the run-ends channel is away.
    completion = caller.join(60, worker)
    ended = wait_until(lambda: (r := Run.objects.get(pk=run.pk)).status in FINISHED and r, 30, "the run ends")
    assert ended.status == "succeeded", (ended.error, worker.tail())
    assert completion.id == str(run.pk) and completion.choices[0].message.content == ended.output
    assert worker.alive(), worker.tail()


# ------------------------------------------------------------------------------------------------------ PostgreSQL


def test_a_postgres_stop_answers_503_in_openai_shape_and_calls_succeed_once_it_is_back(  # type: ignore[no-untyped-def]
        pg_stack: tuple[FaultStack, PrivatePostgres], fake_openai) -> None:  # noqa: F811 (the fixture imported above)
    stack, postgres = pg_stack
    fake_openai.configure(latency_ms=50, chunk_delay_ms=0, fail_first_n=0, hang_rate=0.0, misbehave="")
    seeded = seed(stack, fake_openai.url)
    worker = stack.worker()
    url = stack.web()
    client = sdk(url, seeded["key"])
    limited = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {seeded['limited_key']}"}, timeout=30)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Token {seeded['token']}"}, timeout=30)

    def runs() -> list[dict[str, Any]]:
        listed = api.get("/api/runs/").json()
        return listed["results"] if isinstance(listed, dict) else listed

    before = limited.post("/v1/chat/completions", json=chat_body())  # 1 of the limited key's calls this minute
    assert before.status_code == 200, before.text[:300]
    assert [m.id for m in client.models.list()] == ["ask", "chat"]

    # In flight when PostgreSQL stops: a whole-answer call whose model answers during the outage, and a stream.
    fake_openai.configure(latency_ms=5000, chunk_delay_ms=0)
    waiting = InFlightCall(client)
    wait_until(lambda: "running" in {r["status"] for r in runs()}, 30, "the whole-answer call's run starts")
    fake_openai.configure(latency_ms=1000, chunk_delay_ms=400)
    in_flight = InFlightStream(client)
    wait_until(lambda: in_flight.pieces, 30, "the first streamed piece")
    postgres.stop("fast")
    stopped_at = time.monotonic()

    idempotent = {"Idempotency-Key": "order-9"}
    outage = {
        "POST /v1/chat/completions": lambda: limited.post("/v1/chat/completions", json=chat_body()),
        "POST /v1/chat/completions (stream)": lambda: limited.post("/v1/chat/completions", json=chat_body(True)),
        "POST /v1/chat/completions (Idempotency-Key)": lambda: limited.post("/v1/chat/completions",
                                                                            json=chat_body(), headers=idempotent),
        "POST /v1/chat/completions (unknown model)": lambda: limited.post(
            "/v1/chat/completions", json={**chat_body(), "model": "nope"}),
        "POST /v1/responses": lambda: limited.post("/v1/responses", json=responses_body()),
        "GET /v1/models": lambda: limited.get("/v1/models"),
        "GET /v1/models/chat": lambda: limited.get("/v1/models/chat"),
    }
    for what, ask in outage.items():
        assert_unavailable(*timed(ask), what)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model="chat", messages=PROMPT)
    assert refused.value.status_code == 503 and refused.value.code == "service_unavailable"
    time.sleep(max(0.0, 5 - (time.monotonic() - stopped_at)))
    postgres.start()

    # The stream in flight bridges the outage: the sink retried its writes, the follower its reads.
    in_flight.join(60)
    assert in_flight.error is None, repr(in_flight.error)
    wait_until(lambda: api.get("/api/runs/").status_code == 200, 30, "the REST API back")
    streamed = api.get(f"/api/runs/{in_flight.run_id}/").json()
    assert streamed["status"] == "succeeded", (streamed["error"], worker.tail())
    assert "".join(in_flight.pieces) == streamed["output"] and in_flight.finish[-1] == "stop"
    waited = waiting.join(60)
    whole_run = api.get(f"/api/runs/{waited.id}/").json()
    assert whole_run["status"] == "succeeded" and waited.choices[0].message.content == whole_run["output"]

    # Back, with no restart: the calls refused during the outage counted for nothing, so the limited key still has
    # LIMITED_PER_MINUTE - 2 calls this minute (the one before and the one below), and order-9 starts afresh.
    fake_openai.configure(latency_ms=50, chunk_delay_ms=0)
    whole = limited.post("/v1/chat/completions", json=chat_body())
    assert whole.status_code == 200, whole.text[:300]
    assert whole.headers["RateLimit-Remaining"] == str(LIMITED_PER_MINUTE - 2)
    streamed_after = limited.post("/v1/chat/completions", json=chat_body(True))
    assert streamed_after.status_code == 200 and streamed_after.text.endswith("data: [DONE]\n\n")
    assert '"finish_reason":"stop"' in streamed_after.text and '"error"' not in streamed_after.text
    fresh = limited.post("/v1/chat/completions", json=chat_body(), headers=idempotent)
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh.headers, fresh.text[:300]
    assert [m.id for m in client.models.list()] == ["ask", "chat"]

    listed = runs()
    assert len(listed) == 6  # before, two in flight, three after: the calls refused during the outage started nothing
    assert {r["status"] for r in listed} == {"succeeded"}, listed
    assert worker.alive(), worker.tail()
