"""Published endpoints and approval steps: a sync call answers 202 ``waiting``; the stream emits
``approval.requested`` and goes on after the decision; the callback URL hears a decision is waiting."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from httpx_sse import connect_sse

from backend.runs.models import Approval

from ..runs.live import start_run, wait_finished
from .conftest import CALLBACK_HOST, INPUTS, create_graph, make_key, publish
from .receiver import Received, Receiver

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def reviewed(callback_url: str = "") -> dict[str, Any]:
    config: dict[str, Any] = {"title": "Send it?", "show": "{{ nodes.ask.output }}", "require_reason_on_reject": False}
    if callback_url:
        config["callback_url"] = callback_url
    return {
        "schema": "patchbay.graph/v1", "name": "reviewed", "inputs": INPUTS,
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "ask", "type": "llm", "config": {"model": "fast", "prompt": "Answer: {{ input.text }}"}},
                  {"id": "review", "type": "approval", "config": config},
                  {"id": "out", "type": "output", "config": {"value": {"reply": "{{ nodes.review.output }}"}}}],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "review"},
                  {"from": "review", "port": "approved", "to": "out"}],
    }


def test_a_sync_call_that_reaches_an_approval_answers_202_waiting(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    with Receiver(CALLBACK_HOST) as receiver:
        publish(alice_api, create_graph(alice_api, reviewed(f"{receiver.url}/waiting")), "reviewed")
        key = make_key(alice_api)["key"]
        response = http.post("/api/v1/flows/reviewed/run", json={"input": {"text": "hi"}, "timeout_s": 20},
                             headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "waiting" and "decision" in body["message"]
        status = http.get(body["status_url"], headers={"Authorization": f"Bearer {key}"}).json()
        assert status["status"] == "waiting" and status["finished_at"] is None
        notice = receiver.wait(timeout=20)  # the callback: a decision is waiting, and a link
        told = json.loads(notice.body)
    assert told["type"] == "approval.requested" and told["run_id"] == body["run_id"] and told["token"]
    # Signed with the endpoint's own signing secret, as its result callbacks are, and with nothing weaker.
    secret = alice_api.get("/api/endpoints/reviewed/").json()["signing_secret"]
    assert secret and signed_by(notice, secret) and not signed_by(notice, "")
    decided = http.post(f"/api/approval-links/{told['token']}/", json={"action": "approve", "output": "Hello!"})
    assert decided.status_code == 200, decided.text
    run = wait_finished(body["run_id"])
    assert run.status == "succeeded" and run.output == {"reply": "Hello!"}


def signed_by(notice: Received, secret: str) -> bool:
    header = notice.headers.get("patchbay-signature", "")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts:
        return False
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + notice.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def test_a_run_no_endpoint_started_tells_its_callback_unsigned_and_the_token_proves_it(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    """A canvas run has no endpoint secret: its notice carries no signature header (never an HMAC under an
    empty key, which anyone can forge), and a receiver checks the token against the server instead."""
    with Receiver(CALLBACK_HOST) as receiver:
        run_id = start_run(alice_api, create_graph(alice_api, reviewed(f"{receiver.url}/waiting")), {"text": "hi"})
        notice = receiver.wait(timeout=20)
    told = json.loads(notice.body)
    assert told["type"] == "approval.requested" and told["run_id"] == run_id
    assert "patchbay-signature" not in notice.headers
    assert http.get(f"/api/approval-links/{told['token']}/").status_code == 200
    assert http.get(f"/api/approval-links/{told['token'][:-2]}xx/").status_code == 404
    assert http.post(f"/api/approval-links/{told['token']}/", json={"action": "approve"}).status_code == 200
    assert wait_finished(run_id).status == "succeeded"


def test_a_stream_emits_approval_requested_and_goes_on_after_the_decision(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, reviewed()), "reviewed-stream")
    key = make_key(alice_api)["key"]
    received: list[tuple[str, dict[str, Any]]] = []
    with connect_sse(http, "POST", "/api/v1/flows/reviewed-stream/run", json={"input": {"text": "hi"},
                     "mode": "stream"}, headers={"Authorization": f"Bearer {key}"}) as source:
        run_id = source.response.headers["X-Run-Id"]
        for sse in source.iter_sse():
            received.append((sse.event, sse.json()))
            if sse.event == "run.waiting":  # the person decides while the stream stays open
                approval = Approval.objects.get(run_id=run_id)
                assert alice_api.post(f"/api/approvals/{approval.pk}/decide/", {"action": "approve"},
                                      format="json").status_code == 200
    names = [name for name, _ in received]
    assert names.index("approval.requested") < names.index("run.waiting") < names.index("run.resumed")
    assert names[-2:] == ["run.completed", "result"] and received[-1][1]["status"] == "succeeded"
    seqs = [data["seq"] for name, data in received if name != "result" and data.get("seq")]
    assert seqs == list(range(1, len(seqs) + 1))
