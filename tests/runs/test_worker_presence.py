"""Workers say they are up in Redis every beat; the health check counts the fresh ones (runs/worker_presence.py)."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from backend.runs import worker_presence
from backend.runs.worker_presence import FACTS_KEY, WORKERS_KEY, Presence, announce, ready_workers, withdraw


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    saved = client.zrange(WORKERS_KEY, 0, -1, withscores=True), client.hgetall(FACTS_KEY)
    client.delete(WORKERS_KEY, FACTS_KEY)  # the session's live worker beats here too: start from none
    yield client
    client.delete(WORKERS_KEY, FACTS_KEY)
    if saved[0]:
        client.zadd(WORKERS_KEY, dict(saved[0]))
        client.hset(FACTS_KEY, mapping=saved[1])


def test_an_announced_worker_counts_with_its_facts_once_and_withdraws(client: redis.Redis) -> None:
    assert ready_workers() == []
    announce("w1@host", models="loading")
    announce("w1@host", models="loaded")  # a later beat replaces the earlier facts: still one worker
    announce("w2@host", models="on first use")
    assert sorted(w["models"] for w in ready_workers()) == ["loaded", "on first use"]
    withdraw("w1@host")
    assert ready_workers() == [{"models": "on first use"}]


def test_a_worker_whose_beats_stopped_drops_out_after_three_beats(client: redis.Redis) -> None:
    announce("alive@host", models="loaded")
    announce("dead@host", models="loaded")
    now = float(client.time()[0])
    stale = now - worker_presence.fresh_for_s() - 1
    client.zadd(WORKERS_KEY, {"dead@host": stale})  # its last beat was three beats and a second ago
    assert ready_workers() == [{"models": "loaded"}]
    announce("alive@host", models="loaded")  # the next beat of anyone clears the dead one's entry and facts
    assert client.zscore(WORKERS_KEY, "dead@host") is None and not client.hexists(FACTS_KEY, "dead@host")


def test_a_worker_counts_only_while_its_run_loop_turns(client: redis.Redis) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        presence = Presence("looping@host", loop, facts=lambda: {"models": "loaded"})
        turned_before = presence.loop_turned
        time.sleep(0.01)
        presence.beat()
        assert ready_workers() == [{"models": "loaded"}]
        deadline = time.monotonic() + 5
        while presence.loop_turned == turned_before and time.monotonic() < deadline:
            time.sleep(0.01)  # the loop ran the beat's no-op
        assert presence.loop_turned > turned_before
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    client.delete(WORKERS_KEY, FACTS_KEY)
    wedged = Presence("wedged@host", asyncio.new_event_loop(), facts=lambda: {"models": "loaded"})  # never runs
    wedged.loop_turned = time.monotonic() - 4 * settings.PATCHBAY_HEARTBEAT_SECONDS
    wedged.beat()
    assert ready_workers() == []


def test_a_stopped_presence_withdraws_at_once(client: redis.Redis) -> None:
    loop = asyncio.new_event_loop()
    presence = Presence("stopping@host", loop)
    presence.start()
    assert ready_workers() == [{}]
    presence.stop()
    assert ready_workers() == []
