"""Retention on the real PostgreSQL test database: what pruning removes, what it keeps, who sets the policy.

Runs are written through the sink's own write path (``persist_events``) and then aged by moving their
timestamps back, so the rows pruned are the rows a real run leaves.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from backend.graphs.models import Graph, Membership, Workspace
from backend.runs.models import Approval, Run, RunEvent, Span
from backend.runs.retention import runs_prune
from backend.runs.sinks import persist_events

from ..conftest import token_for

pytestmark = pytest.mark.django_db

NOW = timezone.now()
SPEC = {"schema": "patchbay.graph/v1", "name": "r", "inputs": {"type": "object"},
        "nodes": [{"id": "input", "type": "input"}, {"id": "a", "type": "llm",
                                                      "config": {"model": "fast", "prompt": "Say {{ input }}"}},
                  {"id": "output", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
        "edges": [{"from": "input", "to": "a"}, {"from": "a", "to": "output"}]}


def graph_of(api: APIClient) -> Graph:
    response = api.post("/api/graphs/", {"spec": SPEC}, format="json")
    assert response.status_code == 201, response.json()
    return Graph.objects.get(pk=response.json()["id"])


def make_run(graph: Graph, *, days_ago: float, status: str = "succeeded") -> Run:
    """A run as the sink leaves it: started, one llm span with prompt and answer, finished (unless running)."""
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                             input={"text": "a customer note"}, trace_id="a" * 32, status="running")
    now = time.time()
    span = {"span_id": "s1", "kind": "llm", "name": "llm a", "node_id": "a", "status": "succeeded",
            "started_at": now, "ended_at": now + 0.2, "duration_ms": 200.0, "model": "fast",
            "input": {"messages": [{"role": "user", "content": "Say a customer note"}]},
            "output": "a long answer " * 20, "input_tokens": 12, "output_tokens": 40, "cost_usd": 0.0003,
            "attributes": {"gen_ai.request.model": "fast"}}
    events: list[dict[str, Any]] = [
        {"type": "run.started", "seq": 1, "run_id": str(run.pk)},
        {"type": "node.started", "seq": 2, "node_id": "a"},
        {"type": "span.completed", "seq": 3, "span": span},
        {"type": "node.completed", "seq": 4, "node_id": "a", "output": span["output"]},
    ]
    if status != "running":
        events.append({"type": "run.completed", "seq": 5, "status": status, "output": "done",
                       "totals": {"input_tokens": 12, "output_tokens": 40, "cost_usd": 0.0003, "llm_calls": 1,
                                  "duration_ms": 210.0}})
    persist_events(run.pk, events)
    when = NOW - dt.timedelta(days=days_ago)
    Run.objects.filter(pk=run.pk).update(created_at=when, started_at=when,
                                         finished_at=None if status == "running" else when)
    run.refresh_from_db()
    return run


def details(run: Run) -> tuple[list[str], list[Any]]:
    types = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    bodies = list(Span.objects.filter(run=run).values_list("input", "output"))
    return types, bodies


def assert_pruned_but_totals_kept(run: Run) -> None:
    types, bodies = details(run)
    assert types == ["run.completed"]
    assert bodies == [(None, None)]
    final = RunEvent.objects.get(run=run)
    assert final.payload["details_pruned"] is True and final.payload["status"] == "succeeded"
    kept = Run.objects.get(pk=run.pk)
    assert (kept.status, kept.input_tokens, kept.output_tokens, kept.llm_calls) == ("succeeded", 12, 40, 1)
    assert kept.cost_usd == pytest.approx(0.0003) and kept.latency_ms == 210.0
    span = Span.objects.get(run=run)
    assert (span.model, span.input_tokens, span.output_tokens, span.status, span.duration_ms) == \
        ("fast", 12, 40, "succeeded", 200.0)


def test_runs_past_the_event_window_lose_events_and_span_bodies_but_keep_their_totals(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = graph_of(alice_api)
    old, recent = make_run(graph, days_ago=31), make_run(graph, days_ago=29)

    report = runs_prune(now=NOW)

    assert_pruned_but_totals_kept(old)
    assert details(recent) == (["run.started", "node.started", "span.completed", "node.completed", "run.completed"],
                               [({"messages": [{"role": "user", "content": "Say a customer note"}]},
                                 "a long answer " * 20)])
    assert report.counts["run_events"] == 4 and report.counts["span_payloads"] == 1
    assert report.counts["runs_details_pruned"] == 1 and report.counts["runs"] == 0
    # A second pass finds nothing left to do.
    assert sum(runs_prune(now=NOW).counts.values()) == 0


def test_runs_past_the_run_window_are_deleted_with_everything_they_own(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = graph_of(alice_api)
    ancient, old = make_run(graph, days_ago=366), make_run(graph, days_ago=200)

    report = runs_prune(now=NOW)

    assert not Run.objects.filter(pk=ancient.pk).exists()
    assert not RunEvent.objects.filter(run_id=ancient.pk).exists() and not Span.objects.filter(run_id=ancient.pk).exists()
    assert_pruned_but_totals_kept(old)
    assert (report.counts["runs"], report.counts["spans"]) == (1, 1)
    assert report.counts["run_events"] == 5 + 4  # all five of the deleted run, four of the pruned one


def test_a_workspace_override_is_respected_and_others_keep_the_default(alice, bob, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    alices, bobs = graph_of(alice_api), graph_of(bob_api)
    Workspace.objects.filter(pk=alices.workspace_id).update(retention_event_days=3, retention_run_days=10)
    alice_old, alice_older, bob_old = make_run(alices, days_ago=5), make_run(alices, days_ago=11), make_run(bobs, days_ago=11)

    runs_prune(now=NOW)

    assert_pruned_but_totals_kept(alice_old)
    assert not Run.objects.filter(pk=alice_older.pk).exists()
    assert len(details(bob_old)[0]) == 5, "the default window (30 days) still holds bob's run"


@override_settings(PATCHBAY_RETENTION_EVENT_DAYS=1, PATCHBAY_RETENTION_RUN_DAYS=2)
def test_the_defaults_come_from_settings(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = graph_of(alice_api)
    old, older = make_run(graph, days_ago=1.5), make_run(graph, days_ago=3)
    runs_prune(now=NOW)
    assert_pruned_but_totals_kept(old)
    assert not Run.objects.filter(pk=older.pk).exists()


@pytest.mark.parametrize("status", ["running", "queued"])
def test_runs_that_have_not_finished_are_never_pruned_whatever_their_age(alice, alice_api, status) -> None:  # type: ignore[no-untyped-def]
    graph = graph_of(alice_api)
    live = make_run(graph, days_ago=400, status="running")
    Run.objects.filter(pk=live.pk).update(status=status)

    report = runs_prune(now=NOW)

    assert Run.objects.get(pk=live.pk).status == status
    assert len(details(live)[0]) == 4 and details(live)[1][0][0] is not None
    assert sum(report.counts.values()) == 0


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_run_waiting_for_a_person_is_never_pruned_whatever_its_age(alice, alice_api, dry_run) -> None:  # type: ignore[no-untyped-def]
    """A person may take longer to decide than either window: the run, its events, its spans' bodies (the
    resume seeds its steps from them) and its approval all stay until the run has really ended."""
    graph = graph_of(alice_api)
    waiting = make_run(graph, days_ago=400, status="running")
    requested = NOW - dt.timedelta(days=400)
    Approval.objects.create(run=waiting, workspace=graph.workspace, node_id="a", span_id="w1", title="Check it",
                            draft="a draft", requested_at=requested, deadline_at=requested + dt.timedelta(days=500),
                            on_deadline="reject")
    # Where a real wait leaves it (finished.wait_run): waiting, its totals so far, and no end time.
    Run.objects.filter(pk=waiting.pk).update(status=Run.Status.WAITING, resumed_at=requested)
    assert Run.objects.get(pk=waiting.pk).finished_at is None
    before = details(waiting)

    report = runs_prune(now=NOW, dry_run=dry_run)

    assert Run.objects.get(pk=waiting.pk).status == Run.Status.WAITING
    assert details(waiting) == before and len(before[0]) == 4 and before[1][0][0] is not None
    assert Approval.objects.filter(run=waiting, status=Approval.Status.PENDING).count() == 1
    assert sum(report.counts.values()) == 0


def test_a_dry_run_counts_what_would_go_and_changes_nothing(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = graph_of(alice_api)
    make_run(graph, days_ago=400), make_run(graph, days_ago=40), make_run(graph, days_ago=1)
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=NOW - dt.timedelta(days=1))
    snapshot = (list(RunEvent.objects.order_by("pk").values_list("pk", "payload")),
                list(Span.objects.order_by("pk").values_list("pk", "input", "output")),
                list(Run.objects.order_by("pk").values_list("pk", flat=True)), Session.objects.count())

    out = io.StringIO()
    call_command("prune", "--dry-run", stdout=out)
    dry = runs_prune(now=timezone.now(), dry_run=True)

    assert snapshot == (list(RunEvent.objects.order_by("pk").values_list("pk", "payload")),
                        list(Span.objects.order_by("pk").values_list("pk", "input", "output")),
                        list(Run.objects.order_by("pk").values_list("pk", flat=True)), Session.objects.count())
    assert "would remove" in out.getvalue() and "dry run: nothing was changed" in out.getvalue()
    real = runs_prune(now=timezone.now())
    assert dry.counts == real.counts, "the dry run announces exactly what the real one then does"
    assert (real.counts["runs"], real.counts["runs_details_pruned"], real.counts["run_events"]) == (1, 1, 5 + 4)
    assert real.counts["sessions"] == 1


def test_the_prune_command_prints_counts_per_table(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    make_run(graph_of(alice_api), days_ago=40)
    out = io.StringIO()
    call_command("prune", stdout=out)
    text = out.getvalue()
    assert re.search(r"removed +4 run events", text) and re.search(r"removed +1 span input/output bodies", text)


def test_expired_idempotency_records_and_sessions_are_deleted(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.endpoints.models import ApiKey, IdempotencyRecord

    graph = graph_of(alice_api)
    run = make_run(graph, days_ago=0)
    key = ApiKey.objects.create(workspace=graph.workspace, name="k", prefix="pbk_test", secret_hash="0" * 64)
    stale = IdempotencyRecord.objects.create(api_key=key, key="old", request_hash="h", run=run)
    fresh = IdempotencyRecord.objects.create(api_key=key, key="new", request_hash="h", run=run)
    IdempotencyRecord.objects.filter(pk=stale.pk).update(created_at=NOW - dt.timedelta(hours=25))
    Session.objects.create(session_key="e" * 32, session_data="", expire_date=NOW - dt.timedelta(seconds=1))
    Session.objects.create(session_key="v" * 32, session_data="", expire_date=NOW + dt.timedelta(days=1))

    report = runs_prune(now=NOW)

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["v" * 32]
    assert (report.counts["idempotency_records"], report.counts["sessions"]) == (1, 1)


def test_pruning_works_in_bounded_batches_and_finishes_everything(alice, alice_api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from backend.runs import retention

    monkeypatch.setattr(retention, "RUNS_PER_BATCH", 2)
    monkeypatch.setattr(retention, "ROWS_PER_BATCH", 3)
    graph = graph_of(alice_api)
    runs = [make_run(graph, days_ago=45) for _ in range(5)]
    report = runs_prune(now=NOW)
    for run in runs:
        assert_pruned_but_totals_kept(run)
    assert report.counts["run_events"] == 5 * 4


# --- The pruned state through the API ---

def test_the_api_shows_a_pruned_run_without_error(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    run = make_run(graph_of(alice_api), days_ago=31)
    before = alice_api.get(f"/api/runs/{run.pk}/").json()
    assert before["details_pruned"] is False and before["spans"][0]["output"]

    runs_prune(now=NOW)

    response = alice_api.get(f"/api/runs/{run.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["details_pruned"] is True and body["status"] == "succeeded"
    assert body["totals"] == {"input_tokens": 12, "output_tokens": 40, "cost_usd": 0.0003, "llm_calls": 1,
                              "duration_ms": 210.0, "cache_hits": 0, "saved_usd": 0.0, "saved_ms": 0.0}
    assert [(s["input"], s["output"], s["model"], s["output_tokens"]) for s in body["spans"]] == [(None, None, "fast", 40)]
    events = alice_api.get(f"/api/runs/{run.pk}/events/").json()
    assert [(e["type"], e["seq"], e["details_pruned"]) for e in events] == [("run.completed", 5, True)]
    listed = alice_api.get("/api/runs/").json()
    assert [r["id"] for r in listed] == [str(run.pk)]


# --- The policy API ---

def member(workspace: Workspace, name: str, role: str) -> APIClient:
    user = get_user_model().objects.create_user(name, password=f"{name}-pass-123")
    Membership.objects.create(workspace=workspace, user=user, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def test_an_admin_reads_and_changes_the_policy(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = Workspace.objects.get(membership__user=alice)
    url = f"/api/workspaces/{workspace.pk}/retention/"
    assert alice_api.get(url).json() == {"workspace": workspace.pk, "event_days": 30, "run_days": 365,
                                         "event_days_is_default": True, "run_days_is_default": True,
                                         "default_event_days": 30, "default_run_days": 365}

    changed = alice_api.patch(url, {"event_days": 7, "run_days": 90}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["event_days"], changed.json()["run_days"], changed.json()["event_days_is_default"]) == \
        (7, 90, False)
    workspace.refresh_from_db()
    assert (workspace.retention_event_days, workspace.retention_run_days) == (7, 90)

    back = alice_api.patch(url, {"event_days": None}, format="json").json()
    assert (back["event_days"], back["event_days_is_default"], back["run_days"]) == (30, True, 90)


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_change_the_policy(alice, role) -> None:  # type: ignore[no-untyped-def]
    workspace = Workspace.objects.get(membership__user=alice)
    client = member(workspace, f"{role}-carol", role)
    url = f"/api/workspaces/{workspace.pk}/retention/"
    assert client.get(url).status_code == 200
    refused = client.patch(url, {"event_days": 1}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]
    workspace.refresh_from_db()
    assert workspace.retention_event_days is None


def test_another_workspace_gets_404(alice, bob_api) -> None:  # type: ignore[no-untyped-def]
    workspace = Workspace.objects.get(membership__user=alice)
    assert bob_api.get(f"/api/workspaces/{workspace.pk}/retention/").status_code == 404
    assert bob_api.patch(f"/api/workspaces/{workspace.pk}/retention/", {"event_days": 1},
                         format="json").status_code == 404


@pytest.mark.parametrize(("body", "path"), [
    ({"event_days": 0}, "event_days"), ({"event_days": "ten"}, "event_days"), ({"run_days": 10 ** 6}, "run_days"),
    ({"event_days": True}, "event_days"), ({"event_days": 10, "run_days": 5}, "run_days"),
    ({"event_days": 400}, "event_days"), ({"keep": 3}, "keep"),
])
def test_a_bad_policy_is_refused_naming_the_field(alice, alice_api, body, path) -> None:  # type: ignore[no-untyped-def]
    workspace = Workspace.objects.get(membership__user=alice)
    response = alice_api.patch(f"/api/workspaces/{workspace.pk}/retention/", body, format="json")
    assert response.status_code == 400
    assert [p["path"] for p in response.json()["problems"]] == [path]
    workspace.refresh_from_db()
    assert (workspace.retention_event_days, workspace.retention_run_days) == (None, None)


# --- The periodic task ---

def test_the_beat_schedule_runs_the_registered_prune_task(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    from backend.config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["runs-prune"]
    app.loader.import_default_modules()
    task = app.tasks[entry["task"]]
    assert entry["schedule"] == settings.PATCHBAY_RETENTION_PRUNE_EVERY_S
    run = make_run(graph_of(alice_api), days_ago=31)
    counts = task.apply().get()
    assert counts["runs_details_pruned"] == 1
    assert_pruned_but_totals_kept(run)
