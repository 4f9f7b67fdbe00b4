"""A run woken by a decision may be claimed again in the process whose execution parked it, before that one
has let go: the heartbeat must outlive the first execution's end (else the sweep would fail a live run)."""
from __future__ import annotations

import redis
from django.conf import settings

from backend.runs.liveness import _Beater, heartbeat_key


def test_a_run_held_twice_keeps_beating_until_both_let_go() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    beater, run_id = _Beater(), "woken-run-1"
    client.delete(heartbeat_key(run_id))
    try:
        beater.add(run_id)  # the execution that parks the run
        beater.add(run_id)  # the execution that resumes it, in the same process
        beater.remove(run_id)  # the first one ends
        beater.beat_once()
        assert client.exists(heartbeat_key(run_id))
        beater.remove(run_id)
        beater.beat_once()
        assert not client.exists(heartbeat_key(run_id))
    finally:
        client.delete(heartbeat_key(run_id))
