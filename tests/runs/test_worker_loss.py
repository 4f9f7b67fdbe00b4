"""A worker that dies mid-run leaves the run failed with its finished spans, never stuck in "running"."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import time

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from backend.graphs.models import Graph
from backend.providers.models import ModelAlias
from backend.runs.liveness import enqueued_key, reap_orphaned_runs
from backend.runs.models import Run, RunEvent, Span
from backend.runs.worker_cmd import worker_argv

from ..conftest import ROOT, _Tail, token_for
from .live import create_graph, read_events, redis_old_enough_for_the_reaper

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

TWO_STEPS = {
    "schema": "patchbay.graph/v1", "name": "two-steps",
    "nodes": [{"id": "in", "type": "input"},
              {"id": "quick", "type": "llm", "config": {"model": "fast", "prompt": "one {{ input }}"}},
              {"id": "slow", "type": "llm", "config": {"model": "glacial", "prompt": "two {{ input }}"}},
              {"id": "out", "type": "output", "config": {"value": "{{ nodes.slow.output }}"}}],
    "edges": [{"from": "in", "to": "quick"}, {"from": "quick", "to": "slow"}, {"from": "slow", "to": "out"}],
}


def running_run(alice_api, started_ago_s: float) -> Run:  # type: ignore[no-untyped-def]
    redis_old_enough_for_the_reaper()  # the tests reap it themselves
    graph = Graph.objects.get(pk=create_graph(alice_api, TWO_STEPS))
    return Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                              trace_id="a" * 32, status=Run.Status.RUNNING,
                              started_at=timezone.now() - dt.timedelta(seconds=started_ago_s))


def test_a_run_without_a_heartbeat_is_failed_and_keeps_its_spans(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="glacial", model="demo/glacial", demo_latency_ms=30000)
    run = running_run(alice_api, 300)
    Span.objects.create(run=run, span_id="s1", kind="llm", name="llm", node_id="quick", status="succeeded",
                        started_at=timezone.now(), input_tokens=5)
    RunEvent.objects.create(run=run, seq=1, type="run.started", payload={"type": "run.started", "seq": 1})
    reap_orphaned_runs()
    run.refresh_from_db()
    assert run.status == "failed" and "worker" in run.error
    assert Span.objects.filter(run=run, span_id="s1").exists()
    events = asyncio.run(read_events(live_stack.ws_url, str(run.pk), token_for(alice)))
    assert [e["seq"] for e in events] == [1, 2] and events[-1]["status"] == "failed"


def test_a_run_whose_worker_beats_is_left_alone(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="glacial", model="demo/glacial", demo_latency_ms=30000)
    run = running_run(alice_api, 300)
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.set(f"patchbay:heartbeat:{run.pk}", "1", ex=60)
    try:
        assert str(run.pk) not in reap_orphaned_runs()
        run.refresh_from_db()
        assert run.status == "running"
    finally:
        client.delete(f"patchbay:heartbeat:{run.pk}")
        Run.objects.filter(pk=run.pk).update(status="failed")


def test_killing_the_worker_mid_run_ends_the_run_as_failed(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    """A real worker, killed with SIGKILL while its run waits on a slow model."""
    from backend.runs.tasks import execute_run

    ModelAlias.objects.create(alias="glacial", model="demo/glacial", demo_latency_ms=60000)
    graph = Graph.objects.get(pk=create_graph(alice_api, TWO_STEPS))
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                             input={"x": 1}, trace_id="b" * 32)
    queue = f"pb-doomed-{os.getpid()}"
    db = connection.settings_dict
    env = {**os.environ, "PATCHBAY_HEARTBEAT_SECONDS": "1", "PATCHBAY_QUEUE": queue, "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    log: list[str] = []
    worker = subprocess.Popen(worker_argv(concurrency=4, hostname=f"doomed-{os.getpid()}@%h", heartbeat=False),
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _Tail(worker.stdout, log).start()
    try:
        # Marked enqueued, as enqueue_run does: otherwise a slow start (a loaded machine) lets the session worker's
        # sweep take the run for one whose message was lost and run it itself, beating for it after our kill.
        redis.Redis.from_url(settings.REDIS_URL).set(enqueued_key(run.pk), "1", ex=300)
        execute_run.apply_async((str(run.pk),), queue=queue)
        deadline = time.monotonic() + 60
        while not Span.objects.filter(run=run, node_id="quick", kind="llm").exists():
            assert time.monotonic() < deadline and worker.poll() is None, "\n".join(log[-30:])
            time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed = time.monotonic()
        # Three missed beats, then a sweep: ours, or the session worker's (every beat, under a lock, so
        # ours may find it taken and pass). The promise is "in under 15 s", so that is what is waited for.
        while time.monotonic() - killed < 15:
            time.sleep(1)
            with override_settings(PATCHBAY_HEARTBEAT_SECONDS=1):
                reap_orphaned_runs()
            if Run.objects.filter(pk=run.pk, status="failed").exists():
                break
    finally:
        if worker.poll() is None:
            worker.kill()
        redis.Redis.from_url(settings.REDIS_URL).delete(queue)
    run.refresh_from_db()
    assert run.status == "failed" and "worker" in run.error
    # The run-finished hook fired for it (whichever process swept it; the flag is set just after that commit).
    deadline = time.monotonic() + 5
    while not Run.objects.filter(pk=run.pk, finish_notified=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Run.objects.get(pk=run.pk).finish_notified
    kept = Span.objects.get(run=run, node_id="quick", kind="llm")
    assert kept.status == "succeeded" and kept.output_tokens > 0
