"""The websocket reads what a client sends totally: bad cursors 4400, unknown paths 4404, hostile messages answered.

A real Daphne server (the live stack) and a real websocket client; 200 followers of one run all connect and
get every event (the channel layer's pool is bounded and waits instead of refusing).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from backend.providers.models import ModelAlias
from backend.runs.models import RunEvent

from ..conftest import token_for
from .live import close_code, create_graph, numbered, read_events, start_run, wait_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CHAIN = {"schema": "patchbay.graph/v1", "name": "ws", "inputs": {"type": "object"},
         "nodes": [{"id": "in", "type": "input"},
                   {"id": "a", "type": "llm", "config": {"model": "fast", "prompt": "Say {{ input }}"}},
                   {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
         "edges": [{"from": "in", "to": "a"}, {"from": "a", "to": "out"}]}


@pytest.mark.parametrize("query", ["?after=²", "?after=%C2%B2", "?after=%D9%A3", "?after=-1", "?after=1.5",
                                   "?after=99999999999", "?after=%FF", "?after=x&after=%C2%B2"])
def test_a_bad_cursor_closes_with_4400(live_stack, alice, alice_api, query: str) -> None:  # type: ignore[no-untyped-def]
    run_id = start_run(alice_api, create_graph(alice_api, CHAIN), {"x": 1})
    assert asyncio.run(close_code(live_stack.ws_url, run_id, token_for(alice), query)) == 4400
    assert asyncio.run(close_code(live_stack.ws_url, run_id, None, query)) == 4401  # sign-in is checked first


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/runs/", "/ws/runs/a/b/", "/elsewhere", "/ws/runs/%FF/x"])
def test_an_unknown_websocket_path_is_answered_and_closed_with_4404(live_stack, alice, path: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Token {token_for(alice)}"}

    async def code() -> int:
        async with websockets.connect(f"{live_stack.ws_url}{path}", additional_headers=headers,
                                      open_timeout=10) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=10)
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert asyncio.run(code()) == 4404


HOSTILE: list[str | bytes] = [
    "not json", "{", "[" * 100_000, '{"type": "ping", "n": NaN}', '{"type": "\\ud800"}', "x" * 1_000_000,
    b"\x00\x01binary", "[" * 20 + "]" * 20, "null", '"ping"', '{"type": ["ping"]}',
]


def test_hostile_messages_are_answered_and_the_stream_goes_on(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="slowish", model="demo/slowish", demo_latency_ms=1500)
    graph_id = create_graph(alice_api, {**CHAIN, "nodes": [CHAIN["nodes"][0], {**CHAIN["nodes"][1], "config": {
        "model": "slowish", "prompt": "Say {{ input }}"}}, CHAIN["nodes"][2]]})
    run_id = start_run(alice_api, graph_id, {"x": 1})

    headers = {"Authorization": f"Token {token_for(alice)}"}

    async def talk() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        answers: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        async with websockets.connect(f"{live_stack.ws_url}/ws/runs/{run_id}/", additional_headers=headers,
                                      open_timeout=10, max_size=None) as ws:
            for message in HOSTILE:
                await ws.send(message)
            await ws.send(json.dumps({"type": "ping"}))
            async with asyncio.timeout(30):
                while True:
                    frame = json.loads(await ws.recv())
                    (answers if frame["type"] in ("error", "pong") else events).append(frame)
                    if frame["type"] == "run.completed":
                        return answers, events

    answers, events = asyncio.run(talk())
    errors = [a for a in answers if a["type"] == "error"]
    # Unreadable: not JSON ×2, too deep to read, NaN, lone surrogate, 1 MB, binary, 20 deep (a message nests at
    # most 8). Readable but not a ping (null, "ping", a list as type): ignored.
    assert len(errors) == 8, answers
    assert all(a["problems"] for a in errors)
    assert {p["message"] for a in errors for p in a["problems"]} >= {"not valid JSON", "not a text frame"}
    assert [a["type"] for a in answers].count("pong") == 1
    assert wait_finished(run_id).status == "succeeded"
    assert numbered(events) == list(RunEvent.objects.filter(run_id=run_id).order_by("seq")
                                    .values_list("payload", flat=True))


FOLLOWERS = 200


def test_200_concurrent_websocket_followers_all_connect_and_get_every_event(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="steady", model="demo/steady", demo_latency_ms=3000)
    graph_id = create_graph(alice_api, {**CHAIN, "nodes": [CHAIN["nodes"][0], {**CHAIN["nodes"][1], "config": {
        "model": "steady", "prompt": "Say {{ input }}"}}, CHAIN["nodes"][2]]})
    run_id = start_run(alice_api, graph_id, {"x": 1})
    token = token_for(alice)

    async def everyone() -> list[list[dict[str, Any]] | BaseException]:
        return await asyncio.gather(*(read_events(live_stack.ws_url, run_id, token, timeout=90)
                                      for _ in range(FOLLOWERS)), return_exceptions=True)

    results = asyncio.run(everyone())
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} of {FOLLOWERS} followers failed: {failures[:3]!r}"
    stored = list(RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("payload", flat=True))
    assert stored[-1]["type"] == "run.completed"
    for events in results:
        assert numbered(events) == stored  # type: ignore[arg-type]
