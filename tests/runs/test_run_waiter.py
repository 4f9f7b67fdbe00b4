"""One subscription per process tells every local sync caller when its run ends, with what the end wrote, and
loses none.

RunWaiter on the real Redis (a channel of the test's own), with the database
played by a set of ended runs (what ``finished_among`` would read); the
announcement on commit by ``finish_run`` is checked on PostgreSQL, and the
whole path by the live endpoint tests.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings

from backend.runs import run_ends
from backend.runs import run_waiter as waiter_module
from backend.runs.run_ends import RunEnd, decode, encode
from backend.runs.run_waiter import RunWaiter

TOTALS = {"input_tokens": 12, "output_tokens": 30, "cost_usd": 0.0000123, "llm_calls": 3, "latency_ms": 312.5,
          "cache_hits": 0, "saved_usd": 0.0, "saved_ms": 0.0}


class Ended:
    """The database: which runs have ended, and how often it was asked."""

    def __init__(self) -> None:
        self.runs: set[str] = set()
        self.asked = 0

    def __call__(self, fn: Any) -> Any:
        async def call(run_ids: list[str]) -> list[str]:
            self.asked += 1
            return [r for r in run_ids if r in self.runs]

        return call


def written(status: str = "succeeded", output: Any = None) -> dict[str, Any]:
    """What finish_run writes for an engine's end."""
    return {"status": status, "error": "", "output": {"reply": "hi"} if output is None else output,
            "finished_at": dt.datetime.now(dt.UTC), **TOTALS}


def topic() -> str:
    return f"test-run-ends-{uuid.uuid4().hex}"


def connect() -> aioredis.Redis:
    return aioredis.Redis.from_url(settings.REDIS_URL)


def publish(where: str, run_id: str, fields: dict[str, Any]) -> None:
    redis.Redis.from_url(settings.REDIS_URL).publish(where, encode(run_id, fields))


async def live(waiter: RunWaiter) -> int:
    for _ in range(200):
        mark = waiter.mark()
        if mark is not None:
            return mark
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription never went live")


def test_every_local_waiter_of_a_run_hears_its_end_with_what_it_wrote(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # No check of the database during the test, however slow a loaded machine makes it: every answer is the message.
    monkeypatch.setattr(waiter_module, "CHECK_S", 3600)
    where, ended = topic(), Ended()
    fields = written()

    async def scenario() -> list[RunEnd | None]:
        waiter = RunWaiter(ended, connect, where)
        mark = await live(waiter)
        waits = [asyncio.ensure_future(waiter.wait(run, 5, since=mark)) for run in ("a", "a", "b")]
        await asyncio.sleep(0.05)
        publish(where, "a", fields)
        publish(where, "b", {"status": "waiting"})
        return list(await asyncio.gather(*waits))

    first, second, other = asyncio.run(scenario())
    assert ended.asked == 0, "a mark from a live subscription needs no database read"
    # What the end wrote: from the message (a database check answers with the run id alone).
    assert first == second and first is not None and first.fields == fields
    assert other is not None and other.status == "waiting" and other.fields is None


def test_the_answer_is_the_row_the_end_wrote() -> None:
    from backend.runs.models import Run

    fields = written(output={"text": "a\u00e9", "n": [1, 2.5, None]})
    end = decode(encode("r1", fields))
    assert end is not None
    run = Run(status="queued")
    assert end.apply(run) is True
    assert run.status == "succeeded" and run.output == fields["output"] and run.finished_at == fields["finished_at"]
    assert [getattr(run, name) for name in TOTALS] == list(TOTALS.values())


def test_a_large_answer_or_an_end_without_totals_is_read_from_the_database() -> None:
    big = decode(encode("r1", written(output="x" * run_ends.MAX_MESSAGE_BYTES)))
    assert big is not None and big.status == "succeeded" and big.fields is None
    cancelled = decode(encode("r2", {"status": "cancelled", "error": "stopped", "output": None,
                                     "finished_at": dt.datetime.now(dt.UTC)}))
    assert cancelled is not None and cancelled.status == "cancelled" and cancelled.fields is None
    assert decode(b"not json") is None


def test_a_lost_message_costs_at_most_the_check_interval(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(waiter_module, "CHECK_S", 0.2)
    ended = Ended()

    async def scenario() -> tuple[bool, int]:
        waiter = RunWaiter(ended, connect, topic())
        mark = await live(waiter)
        waits = [asyncio.ensure_future(waiter.wait(f"r{i}", 30, since=mark)) for i in range(20)]
        await asyncio.sleep(0.05)
        ended.runs.update(f"r{i}" for i in range(20))  # stored, but the message never came
        asked_before = ended.asked  # the checks so far (none found anything); no await until the update is done
        results = await asyncio.gather(*waits)
        return all(r is not None and r.fields is None for r in results), ended.asked - asked_before

    # Behaviour rather than wall time (a loaded machine stretches both): every waiter was answered by the first
    # check after its run was stored, and that check was one query for all twenty.
    every, checks_after_stored = asyncio.run(scenario())
    assert every, "every waiter answered from the database check, long before its own timeout"
    assert checks_after_stored == 1, "the next check answers every waiter, with one query for all of them"


def test_without_a_live_mark_the_database_is_asked_first_and_a_run_still_going_times_out(  # type: ignore[no-untyped-def]
        monkeypatch) -> None:
    monkeypatch.setattr(waiter_module, "CHECK_S", 3600)  # only the waits' own questions, however slow the machine
    ended = Ended()
    ended.runs.add("done")

    async def scenario() -> tuple[RunEnd | None, RunEnd | None, float]:
        waiter = RunWaiter(ended, connect, topic())
        done = await waiter.wait("done", 5)  # no mark: an Idempotency-Key replay, or no subscription yet
        started = time.monotonic()
        going = await waiter.wait("going", 0.3)
        return done, going, time.monotonic() - started

    done, going, took = asyncio.run(scenario())
    assert done == RunEnd("done") and going is None and took > 0.25  # it waited out its 0.3 s, then gave up
    assert ended.asked == 2, "no mark: each wait asked the database once, first"


def test_an_end_heard_before_its_waiter_came_is_kept() -> None:
    where, ended = topic(), Ended()

    async def scenario() -> RunEnd | None:
        waiter = RunWaiter(ended, connect, where)
        mark = await live(waiter)
        publish(where, "early", written())
        await asyncio.sleep(0.1)
        return await waiter.wait("early", 0.3, since=mark)

    early = asyncio.run(scenario())
    assert early is not None and early.fields is not None and ended.asked == 0


def test_a_mark_is_only_given_by_a_live_subscription() -> None:
    class Unreachable:
        def pubsub(self) -> Any:
            raise redis.ConnectionError("Redis went away")

    async def scenario() -> int | None:
        waiter = RunWaiter(Ended(), Unreachable, topic())
        waiter.mark()
        await asyncio.sleep(0.05)
        return waiter.mark()

    assert asyncio.run(scenario()) is None


@pytest.mark.django_db
def test_finish_run_announces_what_it_wrote_once_it_commits(alice, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from backend.runs.finished import finish_run
    from backend.runs.models import Run

    graph = _graph(alice)
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                             input={"text": "hi"}, status=Run.Status.RUNNING, trace_id="t")
    subscriber = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(run_ends.channel())
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        finish_run(run.pk, "succeeded", output={"reply": "hi"}, totals={**TOTALS, "duration_ms": 312.5})
    assert subscriber.get_message(timeout=0.2) is None, "nothing before the commit"
    for hook in hooks:
        hook()
    message = subscriber.get_message(timeout=2)
    assert message is not None
    end = decode(message["data"])
    stored = Run.objects.get(pk=run.pk)
    assert end is not None and end.run_id == str(run.pk) and end.fields is not None
    assert end.apply(run) and run.finished_at == stored.finished_at and run.output == stored.output
    assert (run.status, run.cost_usd, run.latency_ms, run.llm_calls) == \
        (stored.status, stored.cost_usd, stored.latency_ms, stored.llm_calls)


def _graph(user: Any) -> Any:
    from backend.graphs.models import Workspace
    from backend.graphs.services import graph_create

    spec = {"schema": "patchbay.graph/v1", "name": "g", "inputs": {"type": "object"},
            "nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output", "config": {"value": "x"}}],
            "edges": [{"from": "in", "to": "out"}]}
    return graph_create(user=user, workspace=Workspace.objects.get(membership__user=user), spec=spec)


def test_a_closing_event_loop_ends_the_waiter_even_when_redis_py_turns_the_cancel_into_an_error(  # type: ignore[no-untyped-def]
        monkeypatch) -> None:
    class Swallowing:
        """Its subscribe turns a cancel into a ConnectionError, as redis-py may while it connects."""

        def pubsub(self) -> Any:
            class PubSub:
                async def subscribe(self, *channels: str) -> None:
                    try:
                        await asyncio.sleep(10)
                    except asyncio.CancelledError:
                        raise redis.ConnectionError("cancelled while connecting") from None

                async def aclose(self) -> None:
                    await asyncio.sleep(3600)  # a connection cut mid-connect may never report closed

            return PubSub()

    async def view() -> None:  # a short-lived loop: the sync test client's, or async_to_sync's
        RunWaiter(Ended(), Swallowing, topic()).mark()
        await asyncio.sleep(0.05)

    monkeypatch.setattr(waiter_module, "CLEANUP_S", 0.2)
    started = time.monotonic()
    asyncio.run(view())
    assert time.monotonic() - started < 9  # CLEANUP_S bounded the close: not the subscribe's 10 s nor an hour
