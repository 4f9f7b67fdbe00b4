"""Every implementation of the engine's events port keeps the same record of a run.

RunEventSink (backend/runs/sinks.py: PostgreSQL, then the channel layer; the worker's) and CollectingEvents
(backend/engine/ports.py: the CLI's ``rungraph``, benchmarks, engine tests) get the events of real engine runs
with a scripted model. The contract: ``emit`` returns at once, and once the host has closed the sink the
numbered events it keeps are exactly the ones emitted, each once, in order, as emitted (live-only events,
seq None, are free to be dropped from the durable record).
"""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend.engine import execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, Events, Ports
from tests.engine.scripted import ScriptedLLM, chain, graph, llm


@dataclass
class Host:
    """How a host runs one implementation: prepare (before the loop), make it (on the running loop), close it,
    read back its record."""

    make: Callable[[], Events]
    close: Callable[[Events], Awaitable[None]]
    record: Callable[[Events], list[dict[str, Any]]]
    prepare: Callable[[], None] = lambda: None


async def _nothing_to_close(events: Events) -> None:
    return None


def _collecting(request: pytest.FixtureRequest) -> Iterator[Host]:
    yield Host(make=CollectingEvents, close=_nothing_to_close,
               record=lambda events: [e for e in events.events if e.get("seq") is not None])  # type: ignore[attr-defined]


def _run_sink(request: pytest.FixtureRequest) -> Iterator[Host]:
    from django.db import connections

    from backend.graphs.models import Graph
    from backend.runs.models import Run, RunEvent
    from backend.runs.sinks import RunEventSink

    alice_api = request.getfixturevalue("alice_api")
    response = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json")
    assert response.status_code == 201, response.content
    saved = Graph.objects.get(pk=response.json()["id"])
    runs: list[Run] = []

    def prepare() -> None:
        # A running run, as the worker has it once claimed (made directly: nothing is enqueued).
        runs.append(Run.objects.create(workspace=saved.workspace, graph=saved, graph_version=saved.latest_version,
                                       input={"text": "x"}, trace_id="c" * 32, status=Run.Status.RUNNING))

    def make() -> Events:
        return RunEventSink(runs[-1].pk)

    async def close(events: Events) -> None:
        await events.close()  # type: ignore[attr-defined]
        # Close each database thread's connection, so the test database can be emptied and dropped.
        everyone = threading.Barrier(4)

        def close_connections() -> None:
            everyone.wait(timeout=10)
            connections.close_all()

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, close_connections) for _ in range(4)))

    def record(events: Events) -> list[dict[str, Any]]:
        return [e.payload for e in RunEvent.objects.filter(run_id=events.run_id).order_by("seq")]  # type: ignore[attr-defined]

    yield Host(make=make, close=close, record=record, prepare=prepare)


@pytest.fixture(params=[
    pytest.param(_collecting, id="collecting"),
    # The sink writes from database threads: a transactional test database (emptied after the test).
    pytest.param(_run_sink, id="run_sink", marks=pytest.mark.django_db(transaction=True)),
])
def host(request: pytest.FixtureRequest) -> Iterator[Host]:
    yield from request.param(request)


class Tee:
    """Hands each event to the implementation under test and keeps what the engine emitted."""

    def __init__(self, inner: Events) -> None:
        self.inner, self.emitted = inner, []  # type: list[dict[str, Any]]

    def emit(self, event: dict[str, Any]) -> None:
        self.emitted.append(json.loads(json.dumps(event, default=str)))  # as emitted, before anyone changes it
        self.inner.emit(event)


CHAIN = graph([{"id": "in", "type": "input"}, llm("a", stream=True), llm("b", "{{ nodes.a.output }}"),
               {"id": "out", "type": "output", "config": {"value": "{{ nodes.b.output }}"}}],
              chain("in", "a", "b", "out"))


def run_through(host: Host, doc: dict[str, Any], model: ScriptedLLM) -> tuple[Any, list[dict[str, Any]], Events]:
    async def main() -> tuple[Any, Tee]:
        tee = Tee(host.make())
        result = await execute_graph(parse_graph(doc), {"text": "hello world"}, ports=Ports(llm=model, events=tee))
        await host.close(tee.inner)
        return result, tee

    host.prepare()
    result, tee = asyncio.run(main())
    return result, tee.emitted, tee.inner


def numbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("seq") is not None]


def test_a_run_is_kept_whole_in_order_once_as_emitted(host: Host) -> None:
    result, emitted, events = run_through(host, CHAIN, ScriptedLLM(answer=lambda r: "one two three"))
    assert result.status == "succeeded"
    kept = host.record(events)
    assert kept == numbered(emitted)
    assert [e["seq"] for e in kept] == list(range(1, len(kept) + 1))
    assert kept[0]["type"] == "run.started" and kept[-1]["type"] == "run.completed"
    assert any(e["type"] == "node.delta" for e in emitted)  # live-only events were emitted too


def test_a_failed_run_is_kept_to_its_end(host: Host) -> None:
    result, emitted, events = run_through(host, CHAIN, ScriptedLLM(fail_aliases={"fast"}))
    assert result.status == "failed"
    kept = host.record(events)
    assert kept == numbered(emitted)
    assert kept[-1]["type"] == "run.completed" and kept[-1]["status"] == "failed"


def test_emit_returns_without_waiting_for_the_record(host: Host) -> None:
    """The engine emits from its own steps: a thousand events are handed over without yielding to the loop."""
    async def main() -> tuple[list[dict[str, Any]], Events]:
        events = host.make()
        sent = [{"type": "run.started", "seq": 1, "run_id": "r", "ts": 0.0}]
        sent += [{"type": "node.started", "seq": n, "node_id": f"n{n}", "ts": float(n)} for n in range(2, 1001)]
        for event in sent:
            events.emit(event)  # a plain call: no await, so a blocking implementation would stall right here
        await host.close(events)
        return sent, events

    host.prepare()
    sent, events = asyncio.run(main())
    assert [e["seq"] for e in host.record(events)] == [e["seq"] for e in sent]
