"""Calling a published flow over real HTTP: Daphne → Celery worker → engine → PostgreSQL/Redis and back."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from backend.endpoints.models import ApiKey
from backend.providers.models import ModelAlias
from backend.runs.models import Run, RunEvent

from ..runs.live import wait_finished
from .conftest import create_graph, make_key, publish, save_version, tagged_spec

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())
NOTE = {"text": "I was charged twice for my subscription, please refund the second payment."}


def call(http: httpx.Client, slug: str, key: str, body: Any, **headers: str) -> httpx.Response:
    return http.post(f"/api/v1/flows/{slug}/run", json=body, headers={"Authorization": f"Bearer {key}", **headers})


def test_a_sync_call_returns_the_output_and_usage_and_tags_the_run(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, CHAIN), "order-notes")
    key = make_key(alice_api)
    response = call(http, "order-notes", key["key"], {"input": NOTE}, **{"X-Request-Id": "caller-req-42"})

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-Id"] == "caller-req-42"
    body = response.json()
    assert body["status"] == "succeeded" and body["error"] is None
    assert body["output"]["category"] == "billing" and body["output"]["reply"].startswith("[BILLING]")
    usage = body["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["llm_calls"] == 3
    assert usage["tokens"] == usage["input_tokens"] + usage["output_tokens"] and usage["cost_usd"] > 0
    assert body["latency_ms"] > 0 and body["version"] == 1 and body["request_id"] == "caller-req-42"

    run = Run.objects.get(pk=body["run_id"])
    assert run.source == "endpoint" and run.endpoint_call.api_key_id == key["id"]
    assert run.endpoint_call.request_id == "caller-req-42" and run.endpoint_call.endpoint.slug == "order-notes"
    assert run.status == "succeeded" and run.output == body["output"] and run.cost_usd == usage["cost_usd"]
    assert run.created_by is None
    # The answer was built from the end's own message (runs/run_ends.py), not read back: it is the stored run.
    assert http.get(f"/api/v1/runs/{body['run_id']}", headers={"Authorization": f"Bearer {key['key']}"}
                    ).json() == body

    # Usage is recorded per key (from the run totals) and the key's last use is kept.
    listed = alice_api.get(f"/api/api-keys/{key['id']}/").json()
    assert listed["usage"]["total"]["calls"] == 1 and listed["usage"]["today"]["calls"] == 1
    assert listed["usage"]["total"]["tokens"] == usage["tokens"]
    assert listed["usage"]["total"]["cost_usd"] == pytest.approx(usage["cost_usd"])
    assert listed["last_used_at"] is not None and "key" not in listed

    # Without a caller id, one is made, returned and stored.
    second = call(http, "order-notes", key["key"], {"input": NOTE})
    assert second.status_code == 200 and second.headers["X-Request-Id"].startswith("req_")
    assert Run.objects.get(pk=second.json()["run_id"]).endpoint_call.request_id == second.headers["X-Request-Id"]


def test_an_async_call_answers_202_and_its_status_url_gives_the_result(live_stack, http, flow) -> None:  # type: ignore[no-untyped-def]
    response = call(http, flow.slug, flow.key, {"input": {"text": "hello"}, "mode": "async"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] in ("queued", "running")
    assert response.headers["Location"] == accepted["status_url"]
    assert accepted["status_url"] == f"{live_stack.http_url}/api/v1/runs/{accepted['run_id']}"

    deadline = time.monotonic() + 20
    while True:
        polled = http.get(accepted["status_url"], headers=flow.auth())
        assert polled.status_code == 200, polled.text
        if polled.json()["status"] == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    result = polled.json()
    assert result["status"] == "succeeded" and result["output"]["version"] == "one"
    assert result["output"]["reply"] and result["usage"]["llm_calls"] == 1 and result["run_id"] == accepted["run_id"]

    assert http.get(accepted["status_url"]).status_code == 401
    assert http.get("/api/v1/runs/not-a-uuid", headers=flow.auth()).status_code == 404


def test_a_run_is_invisible_to_a_key_of_another_workspace(live_stack, http, flow, bob_api) -> None:  # type: ignore[no-untyped-def]
    run_id = call(http, flow.slug, flow.key, {"input": {"text": "x"}, "mode": "async"}).json()["run_id"]
    bobs_key = make_key(bob_api)["key"]
    assert http.get(f"/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {bobs_key}"}).status_code == 404
    # Nor can bob's key call alice's flow: it does not exist for him.
    refused = call(http, flow.slug, bobs_key, {"input": {"text": "x"}})
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"


def test_a_stream_call_sends_the_canvas_events_in_order_then_the_result(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, CHAIN), "notes-stream")
    key = make_key(alice_api)["key"]
    with connect_sse(http, "POST", "/api/v1/flows/notes-stream/run", json={"input": NOTE, "mode": "stream"},
                     headers={"Authorization": f"Bearer {key}"}) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        run_id = source.response.headers["X-Run-Id"]
        received = [(sse.event, sse.id, sse.json()) for sse in source.iter_sse()]

    names = [name for name, _, _ in received]
    assert names[0] == "run.started" and names[-2:] == ["run.completed", "result"]
    numbered = [(data["seq"], data) for name, _, data in received if name != "result" and data.get("seq")]
    assert [seq for seq, _ in numbered] == list(range(1, len(numbered) + 1)), "contiguous seqs from 1"
    # Each numbered event is sent with its seq as the SSE id (so Last-Event-ID resumes exactly there).
    assert all(sse_id == str(data["seq"]) for name, sse_id, data in received if name != "result" and data.get("seq"))
    assert "node.delta" in names, "token deltas of the streamed summarize step"
    order = {(d["type"], d.get("node_id")): s for s, d in numbered}
    for edge in CHAIN["edges"]:
        assert order[("node.completed", edge["from"])] < order[("node.started", edge["to"])]

    # The same events the canvas sees: exactly what is stored for the run, in the same order.
    stored = list(RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("payload", flat=True))
    assert [data for _, data in numbered] == stored
    result = received[-1][2]
    assert result["status"] == "succeeded" and result["output"]["category"] == "billing"
    assert result["run_id"] == run_id and result["usage"]["llm_calls"] == 3

    # A client that lost the line resumes after the last event it has, with Last-Event-ID.
    with connect_sse(http, "GET", f"/api/v1/runs/{run_id}/events",
                     headers={"Authorization": f"Bearer {key}", "Last-Event-ID": "3"}) as source:
        resumed = [(sse.event, sse.json()) for sse in source.iter_sse()]
    assert [d["seq"] for name, d in resumed if name != "result" and d.get("seq")] == list(range(4, len(numbered) + 1))
    assert resumed[-1][0] == "result" and resumed[-1][1]["output"] == result["output"]
    with connect_sse(http, "GET", f"/api/v1/runs/{run_id}/events?after={len(numbered)}",
                     headers={"Authorization": f"Bearer {key}"}) as source:
        assert [sse.event for sse in source.iter_sse()] == ["result"], "past the end: just the result, at once"
    assert http.get(f"/api/v1/runs/{run_id}/events?after=x",
                    headers={"Authorization": f"Bearer {key}"}).status_code == 400


def test_a_retry_with_the_same_idempotency_key_returns_the_first_run(live_stack, http, flow) -> None:  # type: ignore[no-untyped-def]
    body = {"input": {"text": "only once please"}}
    first = call(http, flow.slug, flow.key, body, **{"Idempotency-Key": "order-1234"})
    again = call(http, flow.slug, flow.key, {"input": {"text": "only once please"}}, **{"Idempotency-Key": "order-1234"})
    assert first.status_code == again.status_code == 200
    assert again.json()["run_id"] == first.json()["run_id"] and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["output"] == first.json()["output"]
    assert Run.objects.count() == 1

    conflict = call(http, flow.slug, flow.key, {"input": {"text": "something else"}}, **{"Idempotency-Key": "order-1234"})
    assert conflict.status_code == 409 and conflict.json()["error"] == "idempotency_conflict"
    assert first.json()["run_id"] in conflict.json()["message"] and Run.objects.count() == 1

    # Two retries racing each other still make one run.
    with ThreadPoolExecutor(max_workers=4) as pool:
        racing = list(pool.map(lambda _: call(http, flow.slug, flow.key, {"input": {"text": "race"}, "mode": "async"},
                                              **{"Idempotency-Key": "race-1"}), range(4)))
    assert {r.status_code for r in racing} == {202}
    assert len({r.json()["run_id"] for r in racing}) == 1 and Run.objects.count() == 2


def test_a_revoked_key_gets_401_at_once(live_stack, http, flow, alice_api) -> None:  # type: ignore[no-untyped-def]
    assert call(http, flow.slug, flow.key, {"input": {"text": "hi"}, "mode": "async"}).status_code == 202
    revoked = alice_api.post(f"/api/api-keys/{flow.key_id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    response = call(http, flow.slug, flow.key, {"input": {"text": "hi"}})
    assert response.status_code == 401 and response.json()["error"] == "authentication_failed"
    assert "revoked" in response.json()["message"] and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert Run.objects.count() == 1

    for header in ({}, {"Authorization": "Bearer pbk_nope"}, {"Authorization": f"Token {flow.key}"},
                   {"Authorization": f"Bearer {flow.key[:-1]}x"}):
        answer = http.post(f"/api/v1/flows/{flow.slug}/run", json={"input": {"text": "hi"}}, headers=header)
        assert answer.status_code == 401, header


def test_a_key_scoped_to_another_endpoint_gets_403(live_stack, http, flow, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("other", name="other")), "other")
    scoped = make_key(alice_api, scopes=["other"])["key"]
    refused = call(http, flow.slug, scoped, {"input": {"text": "hi"}})
    assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"
    assert "other" in refused.json()["message"] and Run.objects.count() == 0
    allowed = call(http, "other", scoped, {"input": {"text": "hi"}})
    assert allowed.status_code == 200 and allowed.json()["output"]["version"] == "other"


def test_a_key_at_its_daily_spend_cap_gets_429_and_starts_nothing(live_stack, http, flow, alice_api) -> None:  # type: ignore[no-untyped-def]
    capped = make_key(alice_api, daily_max_cost_usd=0.0000001)
    first = call(http, flow.slug, capped["key"], {"input": {"text": "spend a little"}})
    assert first.status_code == 200 and first.json()["usage"]["cost_usd"] > 0.0000001
    runs_before = Run.objects.count()

    refused = call(http, flow.slug, capped["key"], {"input": {"text": "and more"}})
    assert refused.status_code == 429, refused.text
    error = refused.json()
    assert error["error"] == "spend_cap_reached"
    assert "daily cap of $0.0000001" in error["message"] and "no run was started" in error["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 86400
    assert Run.objects.count() == runs_before
    # Another key of the same workspace is not affected.
    assert call(http, flow.slug, flow.key, {"input": {"text": "fine"}}).status_code == 200


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(live_stack, http, flow, alice_api) -> None:  # type: ignore[no-untyped-def]
    limited = make_key(alice_api, rate_limit_per_minute=2)["key"]
    answers = [call(http, flow.slug, limited, {"input": {"text": f"n{i}"}, "mode": "async"}) for i in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[0].headers["RateLimit-Limit"] == "2" and answers[1].headers["RateLimit-Remaining"] == "0"
    assert answers[2].json()["error"] == "rate_limited" and 1 <= int(answers[2].headers["Retry-After"]) <= 60
    assert Run.objects.count() == 2


def test_publish_and_rollback_change_the_version_the_next_call_runs(live_stack, http, flow, alice_api) -> None:  # type: ignore[no-untyped-def]
    def version_answering() -> tuple[str, int]:
        body = call(http, flow.slug, flow.key, {"input": {"text": "which version?"}}).json()
        return body["output"]["version"], body["version"]

    assert version_answering() == ("one", 1)
    assert save_version(alice_api, flow.graph_id, tagged_spec("two")) == 2
    assert version_answering() == ("one", 1), "saving a new version does not change what callers run"
    moved = alice_api.post(f"/api/endpoints/{flow.slug}/publish/", {"version": 2}, format="json")
    assert moved.status_code == 200 and moved.json()["version"] == 2
    assert version_answering() == ("two", 2)
    back = alice_api.post(f"/api/endpoints/{flow.slug}/rollback/", {}, format="json")
    assert back.status_code == 200 and back.json()["version"] == 1
    assert version_answering() == ("one", 1)
    assert [r.graph_version.number for r in Run.objects.order_by("created_at")] == [1, 1, 2, 1]

    off = alice_api.post(f"/api/endpoints/{flow.slug}/unpublish/", {}, format="json")
    assert off.status_code == 200 and off.json()["status"] == "off"
    gone = call(http, flow.slug, flow.key, {"input": {"text": "anyone?"}})
    assert gone.status_code == 404 and Run.objects.count() == 4, "unpublished: 404, earlier runs kept"
    alice_api.post(f"/api/endpoints/{flow.slug}/publish/", {"version": 1}, format="json")
    assert version_answering() == ("one", 1)


def test_bad_input_gets_400_with_the_path_and_starts_nothing(live_stack, http, flow) -> None:  # type: ignore[no-untyped-def]
    wrong_type = call(http, flow.slug, flow.key, {"input": {"text": 42}})
    assert wrong_type.status_code == 400
    assert [(p["path"], p["message"]) for p in wrong_type.json()["problems"]] == [
        ("input.text", "42 is not of type 'string'")]
    missing = call(http, flow.slug, flow.key, {"input": {}})
    assert missing.status_code == 400 and missing.json()["problems"][0]["path"] == "input"
    shape = call(http, flow.slug, flow.key, {"inputs": {}, "mode": "later", "timeout_s": -1})
    assert shape.status_code == 400
    assert {p["path"] for p in shape.json()["problems"]} == {"inputs", "input", "mode", "timeout_s"}
    not_json = http.post(f"/api/v1/flows/{flow.slug}/run", content=b"{nope", headers=flow.auth())
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid"
    budget = call(http, flow.slug, flow.key, {"input": {"text": "x"}, "budget": {"max_llm_calls": 0}})
    assert budget.status_code == 400 and budget.json()["problems"][0]["path"] == "budget.max_llm_calls"
    # PostgreSQL cannot store U+0000 in JSON: a clear 400 (schemathesis once found this as a 500).
    nul = call(http, flow.slug, flow.key, {"input": {"text": "a\u0000b"}})
    assert nul.status_code == 400 and nul.json()["problems"][0]["path"] == "input.text"
    bad_id = call(http, flow.slug, flow.key, {"input": {"text": "x"}}, **{"X-Request-Id": "has space"})
    assert bad_id.status_code == 400 and bad_id.json()["problems"][0]["path"] == "headers.X-Request-Id"
    assert http.get(f"/api/v1/flows/{flow.slug}/run", headers=flow.auth()).status_code == 405
    assert Run.objects.count() == 0


def test_oversized_bodies_and_inputs_get_413(live_stack, http, flow) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    body = call(http, flow.slug, flow.key, {"input": {"text": huge}})
    assert body.status_code == 413 and body.json()["error"] == "too_large"
    big_input = "y" * (settings.PATCHBAY_MAX_INPUT_BYTES + 10)
    too_big = call(http, flow.slug, flow.key, {"input": {"text": big_input}})
    assert too_big.status_code == 413 and too_big.json()["problems"][0]["path"] == "input"
    assert Run.objects.count() == 0


def test_a_caller_budget_tightens_the_graph_budget_but_never_loosens_it(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, CHAIN), "notes-budget")  # the graph allows 8 model calls
    key = make_key(alice_api)["key"]
    tight = call(http, "notes-budget", key, {"input": NOTE, "budget": {"max_llm_calls": 1}}).json()
    assert tight["status"] == "budget_exceeded" and "max_llm_calls=1" in tight["error"]
    loose = call(http, "notes-budget", key, {"input": NOTE, "budget": {"max_llm_calls": 500, "max_seconds": 5}}).json()
    started = RunEvent.objects.get(run_id=loose["run_id"], type="run.started").payload
    assert started["budget"]["max_llm_calls"] == 8 and started["budget"]["max_seconds"] == 5


def test_a_sync_call_past_its_timeout_answers_202_and_the_run_goes_on(live_stack, http, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="sluggish", model="demo/sluggish", demo_latency_ms=1500)
    publish(alice_api, create_graph(alice_api, tagged_spec("slow", model="sluggish", name="slow")), "slow")
    key = make_key(alice_api)["key"]
    response = call(http, "slow", key, {"input": {"text": "take your time"}, "timeout_s": 0.3})
    # Causal, not timed: the server answered while the run it had just started was still queued or running.
    assert response.status_code == 202 and response.json()["status"] in ("queued", "running")
    assert "still going" in response.json()["message"]
    run = wait_finished(response.json()["run_id"])
    assert run.status == "succeeded" and run.output["version"] == "slow"


def test_a_callback_url_on_a_private_or_loopback_address_is_refused(live_stack, http, flow) -> None:  # type: ignore[no-untyped-def]
    for url in ("http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook",
                "https://10.1.2.3/hook", "https://192.168.0.10/hook", "https://172.16.5.4/hook",
                "https://169.254.169.254/latest/meta-data", "https://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/",
                "ftp://example.org/x", "https://user:pw@127.0.0.2/hook", "not a url"):
        response = call(http, flow.slug, flow.key, {"input": {"text": "x"}, "mode": "async", "callback_url": url})
        assert response.status_code == 400, url
        assert response.json()["problems"][0]["path"] == "callback_url", url
    assert Run.objects.count() == 0


def test_a_callback_url_receives_the_signed_result(live_stack, http, flow) -> None:  # type: ignore[no-untyped-def]
    from .receiver import Receiver

    with Receiver("127.0.0.2") as receiver:
        response = call(http, flow.slug, flow.key, {"input": {"text": "call me back"}, "mode": "async",
                                                    "callback_url": f"{receiver.url}/hooks/patchbay"},
                        **{"X-Request-Id": "cb-1"})
        assert response.status_code == 202, response.text
        delivered = receiver.wait(timeout=20)
    assert delivered.path == "/hooks/patchbay"
    payload = json.loads(delivered.body)
    assert payload["type"] == "run.finished" and payload["run"]["run_id"] == response.json()["run_id"]
    assert payload["run"]["status"] == "succeeded" and payload["run"]["output"]["version"] == "one"
    assert delivered.headers["x-request-id"] == "cb-1"
    assert delivered.headers["patchbay-delivery"] == response.json()["run_id"]
    from backend.endpoints.callbacks import signature
    from backend.endpoints.models import Endpoint

    secret = Endpoint.objects.get(slug=flow.slug).signing_secret
    timestamp = int(delivered.headers["patchbay-signature"].split(",")[0].removeprefix("t="))
    assert delivered.headers["patchbay-signature"] == signature(secret, timestamp, delivered.body)
    deadline = time.monotonic() + 5
    from backend.endpoints.models import CallbackDelivery

    while CallbackDelivery.objects.get(run_id=response.json()["run_id"]).status != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_keys_are_stored_hashed(live_stack, flow) -> None:  # type: ignore[no-untyped-def]
    key = ApiKey.objects.get(pk=flow.key_id)
    assert flow.key not in (key.secret_hash, key.prefix) and flow.key.startswith(f"pbk_{key.prefix}_")
    assert len(key.secret_hash) == 64
