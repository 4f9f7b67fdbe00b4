"""One owner for the end of a run: the run-finished hook fires exactly once, on commit, however the run ends."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.utils import timezone

from backend.graphs.models import Graph
from backend.graphs.services import prompt_create, prompt_label_move, prompt_version_create, workspace_for_user
from backend.providers.models import ModelAlias
from backend.runs import finished
from backend.runs.execution import claim
from backend.runs.finished import finish_run, notify_finished, notify_missed, on_run_finished
from backend.runs.liveness import reap_orphaned_runs
from backend.runs.models import Run
from backend.runs.services import run_cancel
from backend.runs.sinks import persist_events

from ..conftest import live_workers_sweep_held
from .live import at_once, create_graph, one_step_chain, redis_old_enough_for_the_reaper, start_run, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = one_step_chain("hooked")


@pytest.fixture(autouse=True)
def _no_sweep_by_a_live_worker() -> Iterator[None]:
    """This module's runs look lost (running for 300 s without a heartbeat) or un-notified on purpose, and its
    tests take the sweep's steps themselves and expect the hook in this process. A live worker started earlier in
    the session (tests/conftest.py) sweeps the same database every beat and would take them first: hold the
    sweep's lock as a sweeping worker does (runs/liveness.py: sweep), so the live worker skips its turns."""
    with live_workers_sweep_held(hold_s=120):
        redis_old_enough_for_the_reaper()  # these tests reap themselves
        yield


@pytest.fixture
def heard() -> Iterator[list[str]]:
    """Every run id the hook announced in this process, in order."""
    calls: list[str] = []
    lock = threading.Lock()

    def record(run_id: str) -> None:
        with lock:
            calls.append(run_id)

    on_run_finished("test-counter")(record)
    yield calls
    finished._subscribers.pop("test-counter", None)


def a_run(alice_api, status: str = Run.Status.RUNNING, started_ago_s: float = 300) -> Run:  # type: ignore[no-untyped-def]
    graph = Graph.objects.get(pk=create_graph(alice_api, CHAIN))
    return Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                              trace_id="c" * 32, status=status,
                              started_at=timezone.now() - dt.timedelta(seconds=started_ago_s)
                              if status == Run.Status.RUNNING else None)


def test_the_sweep_ending_a_lost_run_fires_the_hook_once(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    run = a_run(alice_api)  # running for 300 s, no heartbeat: its worker is gone
    assert reap_orphaned_runs() == [str(run.pk)]
    assert reap_orphaned_runs() == []
    assert notify_finished(run.pk) is False  # a second call finds the flag taken
    assert heard == [str(run.pk)]
    run.refresh_from_db()
    assert run.status == "failed" and run.finish_notified


def test_a_cancel_fires_the_hook_once(alice, alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    run = a_run(alice_api, status=Run.Status.QUEUED)
    run_cancel(run=run, user=alice)
    run_cancel(run=run, user=alice)
    assert heard == [str(run.pk)]
    assert Run.objects.get(pk=run.pk).status == "cancelled"


def test_the_engines_own_end_fires_the_hook_once_after_commit(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    run = a_run(alice_api)
    end = {"type": "run.completed", "seq": 1, "status": "succeeded", "output": "done", "error": None,
           "totals": {"llm_calls": 1, "cost_usd": 0.5}}
    with transaction.atomic():
        assert persist_events(run.pk, [end]) is True
        assert heard == []  # not before the commit: a rolled-back end announces nothing
    assert heard == [str(run.pk)]
    assert persist_events(run.pk, [{**end, "seq": 2}]) is False  # a late event: the trace is closed
    assert finish_run(run.pk, Run.Status.FAILED) is False
    assert reap_orphaned_runs() == []
    assert heard == [str(run.pk)]


def test_a_rolled_back_end_fires_nothing(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    run = a_run(alice_api)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert finish_run(run.pk, Run.Status.SUCCEEDED) is True
        raise RuntimeError("the surrounding write failed")
    assert heard == []
    assert Run.objects.get(pk=run.pk).status == "running"


def test_two_concurrent_finishers_end_the_run_once(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    run = a_run(alice_api)

    def finisher(status: str) -> bool:
        with transaction.atomic():
            return finish_run(run.pk, status)

    moved = at_once(lambda: finisher(Run.Status.SUCCEEDED), lambda: finisher(Run.Status.FAILED), timeout=20)
    assert sorted(moved) == [False, True]
    assert heard == [str(run.pk)]


def test_two_concurrent_notifiers_fire_once(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    run = a_run(alice_api)
    Run.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())  # the hook not yet fired
    fired = at_once(*[lambda: notify_finished(run.pk)] * 4, timeout=20)
    assert sorted(fired) == [False, False, False, True]
    assert heard == [str(run.pk)]


def test_a_failing_subscriber_is_logged_and_the_others_still_hear(alice_api, heard, caplog) -> None:  # type: ignore[no-untyped-def]
    def broken(run_id: str) -> None:
        raise ValueError("subscriber bug")

    finished._subscribers = {"broken": broken, **finished._subscribers}  # first in line
    try:
        run = a_run(alice_api)
        with caplog.at_level(logging.ERROR, logger="backend.runs.finished"):
            assert finish_run(run.pk, Run.Status.SUCCEEDED) is True
    finally:
        finished._subscribers.pop("broken", None)
    assert heard == [str(run.pk)]
    assert any("'broken' failed" in r.getMessage() for r in caplog.records)


def test_subscribers_facts_come_with_the_flags_claim_in_one_statement(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    from django.db.models import Exists, F, OuterRef
    from django.test.utils import CaptureQueriesContext

    got: list[tuple[str, dict[str, object]]] = []
    on_run_finished("test-facts", facts=lambda: {
        "trace": F("trace_id"),
        "waited": Exists(Run.objects.filter(pk=OuterRef("pk"), status=Run.Status.WAITING))})(
        lambda run_id, facts: got.append((run_id, facts)))
    try:
        run = a_run(alice_api)
        Run.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
        with CaptureQueriesContext(connection) as statements:
            assert notify_finished(run.pk) is True
            assert notify_finished(run.pk) is False
    finally:
        finished._subscribers.pop("test-facts", None)
        finished._facts.pop("test-facts", None)
    assert got == [(str(run.pk), {"trace": "c" * 32, "waited": False})]
    assert heard == [str(run.pk)]  # a subscriber without facts still hears
    # the flag, the evals' and callbacks' lookups and this test's: one statement per call, no transaction
    assert [q["sql"].split()[0] for q in statements.captured_queries] == ["WITH", "WITH"]


def test_the_sweep_fires_a_missed_hook_late_but_not_for_history(alice_api, heard) -> None:  # type: ignore[no-untyped-def]
    missed, ancient = a_run(alice_api), a_run(alice_api)
    now = timezone.now()
    Run.objects.filter(pk=missed.pk).update(status="succeeded", finished_at=now - dt.timedelta(seconds=60))
    Run.objects.filter(pk=ancient.pk).update(status="succeeded", finished_at=now - dt.timedelta(days=3))
    assert notify_missed() == [str(missed.pk)]
    assert notify_missed() == []
    assert heard == [str(missed.pk)]


def test_a_run_records_the_prompt_versions_and_model_routes_it_resolved(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_for_user(alice)
    prompt = prompt_create(workspace=workspace, user=alice, name="greet", template="v1 {{ input }}")
    prompt_version_create(prompt=prompt, user=alice, template="v2 {{ input }}")
    prompt_label_move(prompt=prompt, user=alice, label="production", version_number=2)
    ModelAlias.objects.create(alias="mine", model="demo/mine", fallbacks=["fast"])
    spec = {**CHAIN, "nodes": [CHAIN["nodes"][0],
                               {"id": "a", "type": "llm", "config": {"model": "mine", "prompt_ref": "greet@production"}},
                               CHAIN["nodes"][2]]}
    graph = Graph.objects.get(pk=create_graph(alice_api, spec))
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                             trace_id="d" * 32)
    assert claim(run.pk) is not None
    resolved = {"prompts": {"greet@production": "greet@2"}, "models": {"fast": "demo/fast", "mine": "demo/mine"}}
    assert Run.objects.get(pk=run.pk).resolved == resolved
    body = alice_api.get(f"/api/runs/{run.pk}/").json()
    assert body["resolved"] == resolved
    prompt_label_move(prompt=prompt, user=alice, label="production", version_number=1)  # the label moves on...
    assert alice_api.get(f"/api/runs/{run.pk}/").json()["resolved"]["prompts"] == {"greet@production": "greet@2"}


@pytest.mark.live
def test_a_run_on_a_live_worker_is_announced(live_stack, alice_api) -> None:  # type: ignore[no-untyped-def]
    run_id = start_run(alice_api, create_graph(alice_api, CHAIN), {"x": 1})
    run = wait_finished(run_id)
    assert run.status == "succeeded"
    for _ in range(100):  # the flag is set just after the commit that ended the run
        if Run.objects.filter(pk=run_id, finish_notified=True).exists():
            break
        threading.Event().wait(0.05)
    assert Run.objects.get(pk=run_id).finish_notified
    assert Run.objects.get(pk=run_id).resolved["models"] == {"fast": "demo/fast"}
