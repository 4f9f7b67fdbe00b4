"""Helpers for tests that drive the live stack: API calls, a real websocket client, polling."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import websockets

from backend.runs.models import Run

T = TypeVar("T")
FINISHED = {"succeeded", "failed", "budget_exceeded", "cancelled"}


def one_step_chain(name: str) -> dict[str, Any]:
    """input → one llm step on the instant ``fast`` alias → output: the smallest graph that calls a model."""
    return {
        "schema": "patchbay.graph/v1", "name": name,
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "a", "type": "llm", "config": {"model": "fast", "prompt": "one {{ input }}"}},
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
        "edges": [{"from": "in", "to": "a"}, {"from": "a", "to": "out"}],
    }


def create_graph(api: Any, spec: dict[str, Any]) -> int:
    response = api.post("/api/graphs/", {"spec": spec}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def start_run(api: Any, graph_id: int, input: Any, **extra: Any) -> str:
    response = api.post("/api/runs/", {"graph": graph_id, "input": input, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def wait_finished(run_id: str, timeout: float = 30) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.status in FINISHED:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {Run.objects.get(pk=run_id).status} after {timeout}s")


async def read_events(ws_url: str, run_id: str, token: str | None, *, after: int = 0, stop_at_seq: int | None = None,
                      timeout: float = 30) -> list[dict[str, Any]]:
    """Connect as a client would and read until run.completed (or until ``stop_at_seq``)."""
    headers = {"Authorization": f"Token {token}"} if token else {}
    events: list[dict[str, Any]] = []
    async with websockets.connect(f"{ws_url}/ws/runs/{run_id}/?after={after}", additional_headers=headers,
                                  open_timeout=10) as ws:
        async with asyncio.timeout(timeout):
            while True:
                event = json.loads(await ws.recv())
                events.append(event)
                if event["type"] == "run.completed" or (stop_at_seq and event.get("seq") == stop_at_seq):
                    return events


async def close_code(ws_url: str, run_id: str, token: str | None, query: str = "") -> int:
    headers = {"Authorization": f"Token {token}"} if token else {}
    async with websockets.connect(f"{ws_url}/ws/runs/{run_id}/{query}", additional_headers=headers) as ws:
        try:
            await asyncio.wait_for(ws.recv(), timeout=10)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
    raise AssertionError("the server sent data instead of closing")


def numbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("seq") is not None]


def at_once(*calls: Callable[[], T], timeout: float = 30) -> list[T]:
    """Each call in its own thread, all released together (a race on the database), each thread closing its own
    connection after; the results in the order they came."""
    from django.db import connection

    start = threading.Barrier(len(calls))
    results: list[T] = []

    def contender(call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=10)
            results.append(call())
        finally:
            connection.close()

    threads = [threading.Thread(target=contender, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def redis_old_enough_for_the_reaper(timeout_s: float = 30.0) -> None:
    """Wait until the reaper trusts Redis: it reaps nothing while Redis has been up for less than a heartbeat's
    lifetime (a restarted Redis lost every heartbeat; runs/liveness.py), and a fresh machine's embedded Redis may
    be seconds old when the first test that expects a reaping runs."""
    from backend.config.redis_clients import sync_redis
    from backend.runs.liveness import _redis_up_long_enough

    deadline = time.monotonic() + timeout_s
    while not _redis_up_long_enough(sync_redis()):
        assert time.monotonic() < deadline, "Redis did not reach the reaper's minimum uptime"
        time.sleep(0.2)
