"""A person in the loop, on the live stack: API → Celery worker → engine → litellm → bench/fake_openai.py.

A run waits at an approval step without a worker, survives the worker's restart, and goes on from its
stored state after a decision: the model calls before the wait are made once (counted at the fake).
"""
from __future__ import annotations

import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.graphs.models import Membership
from backend.runs.approvals import enforce_deadlines
from backend.runs.models import Approval, Run, Span
from bench.fake_openai import FakeConfig

from .live import FINISHED, create_graph, start_run, wait_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fake(fake_openai: Any) -> Any:
    from backend.providers.models import ModelAlias

    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()
    ModelAlias.objects.create(alias="fake", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key_env="PATH",
                              max_retries=0, timeout_s=10)
    return fake_openai


def model_calls(fake_openai: Any) -> int:
    return sum(fake_openai.stats()["calls_by_model"].values())


def review_flow(**approval: Any) -> dict[str, Any]:
    """draft (a model call) → approval → approved: send (a model call) | rejected: explain (no call) → out."""
    return {
        "schema": "patchbay.graph/v1", "name": "reviewed-reply", "inputs": {"type": "object"},
        "nodes": [
            {"id": "in", "type": "input"},
            {"id": "draft", "type": "llm", "config": {"model": "fake", "prompt": "Draft a reply to {{ input.q }}"}},
            {"id": "review", "type": "approval", "config": {"title": "Send this reply?",
                                                            "show": "{{ nodes.draft.output }}", **approval}},
            {"id": "send", "type": "llm", "config": {"model": "fake", "prompt": "Polish: {{ nodes.review.output }}"}},
            {"id": "explain", "type": "transform", "config": {"value": "not sent: {{ nodes.review.output }}"}},
            {"id": "out", "type": "output", "config": {
                "value": "{{ nodes.send.output | default('') }}{{ nodes.explain.output | default('') }}"}},
        ],
        "edges": [{"from": "in", "to": "draft"}, {"from": "draft", "to": "review"},
                  {"from": "review", "port": "approved", "to": "send"},
                  {"from": "review", "port": "rejected", "to": "explain"},
                  {"from": "send", "to": "out"}, {"from": "explain", "to": "out"}],
    }


def wait_status(run_id: str, wanted: str, timeout: float = 30) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.status == wanted:
            return run
        assert run.status not in FINISHED or wanted in FINISHED, f"run ended {run.status}: {run.error}"
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {Run.objects.get(pk=run_id).status} after {timeout}s")


def waiting_run(api: APIClient, flow: dict[str, Any]) -> tuple[str, Approval]:
    run_id = start_run(api, create_graph(api, flow), {"q": "where is my parcel"}, fresh=True)
    wait_status(run_id, "waiting")
    return run_id, Approval.objects.get(run_id=run_id, node_id="review")


def test_a_waiting_run_survives_a_worker_restart_and_resumes_from_its_stored_state(  # type: ignore[no-untyped-def]
        live_stack, fake, alice_api) -> None:
    run_id, approval = waiting_run(alice_api, review_flow())
    assert model_calls(fake) == 1  # the draft
    run = Run.objects.get(pk=run_id)
    assert run.llm_calls == 1 and not run.finish_notified  # waiting is not an end: the hook has not fired
    assert Span.objects.get(run_id=run_id, node_id="review", kind="node").status == "waiting"
    listed = alice_api.get(f"/api/runs/{run_id}/").json()
    assert listed["status"] == "waiting" and listed["waiting_for"][0]["node_id"] == "review"
    assert [a["id"] for a in alice_api.get("/api/approvals/").json()] == [approval.pk]

    live_stack.restart_worker()  # the only worker dies (SIGKILL) and a new one starts: nothing holds the run

    edited = "Your parcel arrives on Tuesday. Sorry for the wait!"
    answer = alice_api.post(f"/api/approvals/{approval.pk}/decide/", {"action": "approve", "output": edited},
                            format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "approved" and answer.json()["edited"] is True
    run = wait_finished(run_id)
    assert run.status == "succeeded", run.error
    assert model_calls(fake) == 2  # the draft once, before the wait; only the send after it
    assert run.llm_calls == 2  # the run's totals go on from where they stopped
    send_prompt = Span.objects.get(run_id=run_id, node_id="send", kind="llm").input
    assert edited in str(send_prompt)
    wait_span = Span.objects.get(run_id=run_id, node_id="review", kind="node")  # one span for the wait
    assert wait_span.status == "succeeded" and wait_span.attributes["patchbay.approval.by"] == "alice"
    assert wait_span.attributes["patchbay.approval.decision"] == "approve" and wait_span.duration_ms > 0
    assert Span.objects.filter(run_id=run_id, node_id="draft", kind="node").count() == 1
    seqs = list(run.events.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # one numbering across the wait, no gap
    types = list(run.events.values_list("type", flat=True))
    assert types.count("run.completed") == 1 and "run.waiting" in types and "run.resumed" in types
    deadline = time.monotonic() + 5
    while not Run.objects.get(pk=run_id).finish_notified and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Run.objects.get(pk=run_id).finish_notified  # the hook fired once the run really ended
    assert any("runs.execute_run" in line for line in live_stack.worker_log)  # the new worker took it
    assert alice_api.post(f"/api/approvals/{approval.pk}/decide/", {"action": "approve"},
                          format="json").status_code == 409  # decided once


def test_reject_needs_a_reason_and_takes_the_rejected_port(live_stack, fake, alice_api) -> None:  # type: ignore[no-untyped-def]
    run_id, approval = waiting_run(alice_api, review_flow())
    refused = alice_api.post(f"/api/approvals/{approval.pk}/decide/", {"action": "reject"}, format="json")
    assert refused.status_code == 400 and refused.json()["problems"][0]["path"] == "fields.reason"
    assert Run.objects.get(pk=run_id).status == "waiting"
    answer = alice_api.post(f"/api/approvals/{approval.pk}/decide/",
                            {"action": "reject", "fields": {"reason": "too curt"}}, format="json")
    assert answer.status_code == 200, answer.json()
    run = wait_finished(run_id)
    assert run.status == "succeeded" and run.output.startswith("not sent: ")
    assert model_calls(fake) == 1  # the send step never ran
    statuses = dict(Span.objects.filter(run_id=run_id, kind="node").values_list("node_id", "status"))
    assert statuses["send"] == "skipped" and statuses["explain"] == "succeeded"
    assert Span.objects.get(run_id=run_id, node_id="review").attributes["patchbay.approval.fields"] == {
        "reason": "too curt"}


@pytest.mark.parametrize(("default", "status", "port_step"), [("approve", "succeeded", "send"),
                                                               ("fail", "failed", None)])
def test_a_deadline_applies_the_default_action(live_stack, fake, alice_api, default, status, port_step) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["approval-deadlines"]["task"] == "runs.approval_deadlines"
    run_id, approval = waiting_run(alice_api, review_flow(max_wait_seconds=1, on_deadline=default))
    assert enforce_deadlines() == [] or Run.objects.get(pk=run_id).status != "waiting"  # not yet late
    time.sleep(1.2)
    assert approval.pk in enforce_deadlines()  # what the beat task runs
    run = wait_finished(run_id)
    assert run.status == status, run.error
    approval.refresh_from_db()
    assert approval.decided_by_label == "deadline"
    if port_step:
        assert Span.objects.get(run_id=run_id, node_id=port_step, kind="node").status == "succeeded"
    else:
        assert "deadline" in run.error


def test_a_signed_link_works_once_and_never_again(live_stack, fake, alice_api) -> None:  # type: ignore[no-untyped-def]
    run_id, approval = waiting_run(alice_api, review_flow())
    made = alice_api.post(f"/api/approvals/{approval.pk}/link/")
    assert made.status_code == 201
    token = made.json()["token"]
    anonymous = APIClient()
    shown = anonymous.get(f"/api/approval-links/{token}/")
    assert shown.status_code == 200 and shown.json()["title"] == "Send this reply?" and "run" not in shown.json()
    bad = anonymous.post(f"/api/approval-links/{token}/", {"action": "reject"}, format="json")
    assert bad.status_code == 400  # a bad answer does not spend the link
    assert anonymous.post(f"/api/approval-links/{token}/", {"action": "approve"}, format="json").status_code == 200
    again = anonymous.post(f"/api/approval-links/{token}/", {"action": "approve"}, format="json")
    assert again.status_code == 410 and again.json()["error"] == "gone"
    assert anonymous.get(f"/api/approval-links/{token}/").status_code == 410
    forged = anonymous.get(f"/api/approval-links/{token[:-3]}xyz/")
    assert forged.status_code in (400, 404)
    assert wait_finished(run_id).status == "succeeded"
    assert Approval.objects.get(pk=approval.pk).decided_via == "link"


def test_a_viewer_cannot_decide_and_named_members_decide_alone(live_stack, fake, alice, bob, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    run_id, approval = waiting_run(alice_api, review_flow())
    Membership.objects.create(workspace=approval.workspace, user=bob, role="viewer")
    assert bob_api.get("/api/approvals/").json() == []
    assert bob_api.get(f"/api/approvals/{approval.pk}/").json()["can_decide"] is False
    denied = bob_api.post(f"/api/approvals/{approval.pk}/decide/", {"action": "approve"}, format="json")
    assert denied.status_code == 403
    assert bob_api.post(f"/api/approvals/{approval.pk}/link/").status_code == 403
    assert Run.objects.get(pk=run_id).status == "waiting"
    # A step naming bob: an editor bob decides, the workspace's admin alice does not.
    Membership.objects.filter(workspace=approval.workspace, user=bob).update(role="editor")
    run2, named = waiting_run(alice_api, review_flow(deciders_members=["bob"]))
    assert alice_api.post(f"/api/approvals/{named.pk}/decide/", {"action": "approve"}, format="json").status_code == 403
    assert [a["id"] for a in bob_api.get("/api/approvals/").json()] == [approval.pk, named.pk]
    assert bob_api.post(f"/api/approvals/{named.pk}/decide/", {"action": "approve"}, format="json").status_code == 200
    assert wait_finished(run2).status == "succeeded"
    alice_api.post(f"/api/runs/{run_id}/cancel/")
    assert wait_finished(run_id).status == "cancelled"  # a waiting run stops at once


def test_two_parallel_approvals_both_wait_and_both_resume(live_stack, fake, alice_api) -> None:  # type: ignore[no-untyped-def]
    flow = {
        "schema": "patchbay.graph/v1", "name": "two-reviews", "inputs": {"type": "object"},
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "draft", "type": "llm", "config": {"model": "fake", "prompt": "Draft {{ input.q }}"}},
                  {"id": "legal", "type": "approval", "config": {"show": "{{ nodes.draft.output }}"}},
                  {"id": "brand", "type": "approval", "config": {"show": "{{ nodes.draft.output }}"}},
                  {"id": "out", "type": "output", "config": {
                      "value": "{{ nodes.legal.output }} | {{ nodes.brand.output }}"}}],
        "edges": [{"from": "in", "to": "draft"}, {"from": "draft", "to": "legal"}, {"from": "draft", "to": "brand"},
                  {"from": "legal", "port": "approved", "to": "out"}, {"from": "brand", "port": "approved", "to": "out"}],
    }
    run_id = start_run(alice_api, create_graph(alice_api, flow), {"q": "x"}, fresh=True)
    wait_status(run_id, "waiting")
    pending = {a.node_id: a for a in Approval.objects.filter(run_id=run_id)}
    assert set(pending) == {"legal", "brand"}
    assert alice_api.post(f"/api/approvals/{pending['legal'].pk}/decide/", {"action": "approve", "output": "L"},
                          format="json").status_code == 200
    deadline = time.monotonic() + 30
    while Span.objects.get(run_id=run_id, node_id="legal", kind="node").status != "succeeded":  # resumed
        assert time.monotonic() < deadline
        time.sleep(0.05)
    wait_status(run_id, "waiting")  # and waits again for the other
    assert [w["node_id"] for w in alice_api.get(f"/api/runs/{run_id}/").json()["waiting_for"]] == ["brand"]
    assert alice_api.post(f"/api/approvals/{pending['brand'].pk}/decide/", {"action": "approve", "output": "B"},
                          format="json").status_code == 200
    run = wait_finished(run_id)
    assert run.status == "succeeded" and run.output == "L | B", run.error
    assert model_calls(fake) == 1
    assert Span.objects.filter(run_id=run_id, kind="node").count() == 5  # each step recorded once
