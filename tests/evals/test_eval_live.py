"""Evals on the live stack: PostgreSQL, Redis, a real Celery worker, a websocket client, and an LLM judge
over HTTP on bench/fake_openai.py."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from backend.audit.models import AuditEntry
from backend.evals.models import Dataset, EvalItem, EvalRun, Score
from backend.providers.models import ModelAlias
from backend.runs.models import Run
from tests.conftest import token_for
from tests.runs.live import create_graph, start_run, wait_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ROUTING = json.loads((ROOT / "graphs" / "routing.json").read_text())
MESSAGES = ["I was charged twice for my subscription, please refund the second payment.",
            "The app crashes with an error when I try to log in.",
            "Your service is terrible and nobody listens to me."]
SCORERS = [
    {"type": "exact", "name": "same answer"},
    {"type": "contains", "name": "has a reply", "text": "reply"},
    {"type": "regex", "name": "route word", "field": "route", "pattern": "^[a-z_]+$"},
    {"type": "json_schema", "name": "shape", "schema": {"type": "object", "required": ["route", "reply"]}},
    {"type": "numeric", "name": "confidence", "field": "confidence", "tolerance": 0.001},
    {"type": "route", "name": "route"},
    {"type": "judge", "name": "judge", "rubric": "Does the reply address the message?", "pass_at": 0},
    {"type": "cost", "name": "cheap", "max_usd": 1.0},
    {"type": "latency", "name": "quick", "max_ms": 60000},
]


def judge_alias(fake_openai: Any) -> None:
    ModelAlias.objects.update_or_create(alias="judge", defaults={
        "model": "openai/gpt-4o-mini", "api_base": fake_openai.url, "api_key_env": "PATH", "max_retries": 0})


def recorded_dataset(api: Any, graph_id: int, *, held_out: bool = False) -> int:
    """A dataset built from recorded runs (added from their traces), plus one item labelled with a wrong route."""
    runs = [start_run(api, graph_id, {"message": m}) for m in MESSAGES]
    for run_id in runs:
        assert wait_finished(run_id).status == "succeeded"
    dataset = api.post("/api/datasets/", {"name": f"triage {time.monotonic()}", "held_out": held_out}, format="json")
    assert dataset.status_code == 201, dataset.json()
    dataset_id = dataset.json()["id"]
    for run_id in runs:
        added = api.post(f"/api/datasets/{dataset_id}/add-run/", {"run": run_id}, format="json")
        assert added.status_code == 201, added.json()
        assert added.json()["labels"]["route"] in ("billing", "technical", "complaint", "default")
    wrong = api.post(f"/api/datasets/{dataset_id}/items/", {"input": {"message": MESSAGES[0]}, "expected": "nope",
                                                            "labels": {"route": "technical"}}, format="json")
    assert wrong.status_code == 201
    return dataset_id


def wait_eval(eval_id: str, timeout: float = 60) -> EvalRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        eval_run = EvalRun.objects.get(pk=eval_id)
        if eval_run.status != "running":
            return eval_run
        time.sleep(0.1)
    raise AssertionError(f"eval {eval_id} still running: {EvalRun.objects.get(pk=eval_id).done} done")


async def progress(ws_url: str, eval_id: str, token: str) -> list[dict[str, Any]]:
    seen = []
    async with websockets.connect(f"{ws_url}/ws/evals/{eval_id}/", additional_headers={
            "Authorization": f"Token {token}"}) as ws:
        async with asyncio.timeout(60):
            while True:
                message = json.loads(await ws.recv())
                seen.append(message)
                if message["status"] != "running":
                    return seen


async def close_code(ws_url: str, eval_id: str, token: str | None) -> int:
    headers = {"Authorization": f"Token {token}"} if token else {}
    async with websockets.connect(f"{ws_url}/ws/evals/{eval_id}/", additional_headers=headers) as ws:
        try:
            await asyncio.wait_for(ws.recv(), timeout=10)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
    raise AssertionError("the server sent progress instead of closing")


def test_an_eval_scores_every_item_with_every_scorer_and_the_aggregates_add_up(
        live_stack, alice, bob, alice_api, fake_openai) -> None:  # type: ignore[no-untyped-def]
    judge_alias(fake_openai)
    graph_id = create_graph(alice_api, ROUTING)
    dataset_id = recorded_dataset(alice_api, graph_id)

    started = alice_api.post("/api/evals/", {"dataset": dataset_id, "graph": graph_id, "scorers": SCORERS},
                             format="json")
    assert started.status_code == 201, started.json()
    eval_id = started.json()["id"]
    messages = asyncio.run(progress(live_stack.ws_url, eval_id, token_for(alice)))
    assert messages[-1]["status"] == "succeeded" and messages[-1]["done"] == 4 == messages[-1]["total"]
    assert [m["done"] for m in messages] == sorted(m["done"] for m in messages)
    assert asyncio.run(close_code(live_stack.ws_url, eval_id, token_for(bob))) == 4403, "not bob's eval"
    assert asyncio.run(close_code(live_stack.ws_url, eval_id, None)) == 4401

    eval_run = wait_eval(eval_id)
    items = list(EvalItem.objects.filter(eval_run=eval_run).select_related("run"))
    assert len(items) == 4 and all(i.run.source == "eval" and i.scored for i in items)
    scores = list(Score.objects.filter(eval_run=eval_run))
    assert len(scores) == 4 * len(SCORERS)
    assert {(s.run_id, s.name) for s in scores} == {(i.run_id, sc["name"]) for i in items for sc in SCORERS}

    by = {(str(s.run_id), s.name): s for s in scores}
    wrong = next(i for i in items if i.position == 3)
    assert not by[(str(wrong.run_id), "route")].passed and not by[(str(wrong.run_id), "same answer")].passed
    assert all(by[(str(i.run_id), "route")].passed for i in items if i.position < 3)
    judges = [s for s in scores if s.name == "judge"]
    assert all(s.cost_usd > 0 and s.data_type == "NUMERIC" for s in judges), "a real, priced call per item"
    assert fake_openai.stats()["requests"] >= 4

    s = eval_run.summary
    # Hand-computed: 3 of 4 items pass every scorer; Wilson(3, 4) at 95 %.
    assert s["pass_rate"]["passed"] == 3 and s["pass_rate"]["value"] == 0.75
    assert s["pass_rate"]["low"] == pytest.approx(0.30064, abs=1e-4)
    assert s["pass_rate"]["high"] == pytest.approx(0.95441, abs=1e-4)
    # route: [1, 1, 1, 0]: mean .75, s = .5, t(3) = 3.182446: .75 ± .795612
    assert s["scorers"]["route"]["mean"] == 0.75
    assert s["scorers"]["route"]["low"] == pytest.approx(-0.045612, abs=1e-5)
    assert s["scorers"]["route"]["high"] == pytest.approx(1.545612, abs=1e-5)
    assert s["scorers"]["judge"]["mean"] == 0.0  # the fake answers the schema's minimum
    runs = {i.run_id: i.run for i in items}
    total = sum(r.cost_usd for r in runs.values()) + sum(j.cost_usd for j in judges)
    assert s["cost_usd"]["total"] == pytest.approx(total) and total > sum(r.cost_usd for r in runs.values())
    lat = sorted(r.latency_ms for r in runs.values())
    assert s["latency_ms"]["p50"] == pytest.approx((lat[1] + lat[2]) / 2)
    assert s["latency_ms"]["p95"] == pytest.approx(lat[2] + 0.85 * (lat[3] - lat[2]))

    detail = alice_api.get(f"/api/evals/{eval_id}/").json()
    assert len(detail["item_list"]) == 4 and detail["item_list"][0]["trace"].endswith(detail["item_list"][0]["run"])

    # Compare with a second eval of the same version: every item ties.
    again = alice_api.post("/api/evals/", {"dataset": dataset_id, "graph": graph_id, "scorers": SCORERS},
                           format="json").json()["id"]
    wait_eval(again)
    compared = alice_api.get(f"/api/evals/{eval_id}/compare/{again}/").json()
    assert (compared["wins"], compared["losses"], compared["ties"]) == (0, 0, 4)
    assert compared["pass_rate"]["delta"] == 0 and "delta" in compared["latency_p50_ms"]


def greet_spec(prompt_ref: str) -> dict[str, Any]:
    return {"schema": "patchbay.graph/v1", "name": "greeter", "inputs": {"type": "object"},
            "nodes": [{"id": "input", "type": "input"},
                      {"id": "say", "type": "llm", "config": {"model": "fast", "prompt_ref": prompt_ref}},
                      {"id": "output", "type": "output", "config": {"value": "{{ nodes.say.output }}"}}],
            "edges": [{"from": "input", "to": "say"}, {"from": "say", "to": "output"}]}


def test_a_new_prompt_version_starts_an_eval_and_a_regression_is_refused_at_publish(
        live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    assert alice_api.post("/api/prompts/", {"name": "greet", "template": "Say hello to {{ input.name }}"},
                          format="json").status_code == 201
    graph_id = create_graph(alice_api, greet_spec("greet@production"))
    names = ["Ada", "Grace", "Linus"]
    dataset = alice_api.post("/api/datasets/", {"name": "greetings", "held_out": True}, format="json").json()["id"]
    lines = "".join(json.dumps({"input": {"name": n}}) + "\n" for n in names)
    assert alice_api.post(f"/api/datasets/{dataset}/import/", {"format": "jsonl", "text": lines},
                          format="json").status_code == 201
    scorers = [{"type": "contains", "name": "says hello", "text": "hello"}]
    policy = alice_api.put(f"/api/graphs/{graph_id}/eval-policy/", {"datasets": [dataset], "scorers": scorers,
                                                                    "threshold": 0.1}, format="json")
    assert policy.status_code == 200, policy.json()
    assert alice_api.post("/api/endpoints/", {"graph": graph_id, "slug": "greeter"}, format="json").status_code == 201
    assert alice_api.post("/api/endpoints/greeter/publish/", {"version": 1}, format="json").status_code == 200

    # A new version of the prompt the graph uses: an eval of the candidate starts by itself, and the baseline's.
    made = alice_api.post("/api/prompts/greet/versions/", {"template": "Wave at {{ input.name }}"}, format="json")
    assert made.status_code == 201, made.json()
    deadline = time.monotonic() + 30
    while EvalRun.objects.filter(graph_id=graph_id).count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    started = {e.trigger: e for e in EvalRun.objects.filter(graph_id=graph_id)}
    assert set(started) == {"prompt_version", "baseline"}
    assert started["prompt_version"].candidate == {"name": "greet", "ref": "greet@2"}
    candidate, baseline = wait_eval(str(started["prompt_version"].pk)), wait_eval(str(started["baseline"].pk))
    assert baseline.summary["pass_rate"]["value"] == 1.0 and candidate.summary["pass_rate"]["value"] == 0.0
    run = EvalItem.objects.filter(eval_run=candidate).first().run
    assert run.resolved["prompts"] == {"greet@2": "greet@2"}, "the candidate prompt version ran"

    # A graph version that regresses: its eval starts by itself; publishing it is refused with the numbers.
    v2 = alice_api.put(f"/api/graphs/{graph_id}/", {"spec": greet_spec("greet@2")}, format="json")
    assert v2.status_code in (200, 201), v2.json()
    deadline = time.monotonic() + 30
    while not EvalRun.objects.filter(graph_id=graph_id, trigger="graph_version").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    wait_eval(str(EvalRun.objects.get(graph_id=graph_id, trigger="graph_version").pk))
    refused = alice_api.post("/api/endpoints/greeter/publish/", {"version": 2}, format="json")
    assert refused.status_code == 409, refused.json()
    problem = refused.json()["problems"][0]
    assert (problem["baseline_pass_rate"], problem["candidate_pass_rate"], problem["drop"]) == (1.0, 0.0, 1.0)
    # The same gate stands before moving production in the Releases view: one place moves labels.
    release = alice_api.post(f"/api/graphs/{graph_id}/releases/", {"version": 2}, format="json")
    assert release.status_code == 201, release.json()
    moved = alice_api.put(f"/api/graphs/{graph_id}/labels/production/", {"release": release.json()["number"]},
                          format="json")
    assert moved.status_code == 409 and moved.json()["error"] == "eval_gate", moved.json()
    from backend.releases.models import ReleaseLabel

    assert ReleaseLabel.objects.get(graph_id=graph_id, name="production").release.version.number == 1
    assert not AuditEntry.objects.filter(action="eval_gate.overridden").exists()

    forced = alice_api.post("/api/endpoints/greeter/publish/", {"version": 2, "override_reason": "hotfix, "
                            "wording agreed with support"}, format="json")
    assert forced.status_code == 200, forced.json()
    entry = AuditEntry.objects.get(action="eval_gate.overridden")
    assert entry.after["reason"].startswith("hotfix") and entry.before["drop"] == 1.0


def test_endpoint_traffic_is_sampled_into_a_dataset(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.endpoints.models import EndpointCall
    from backend.evals.datasets import sample_run

    graph_id = create_graph(alice_api, greet_spec("greet@production").copy() | {"nodes": [
        {"id": "input", "type": "input"}, {"id": "say", "type": "llm", "config": {"model": "fast", "prompt": "Hi {{ input }}"}},
        {"id": "output", "type": "output", "config": {"value": "{{ nodes.say.output }}"}}]})
    everything = alice_api.post("/api/datasets/", {"name": "all"}, format="json").json()["id"]
    nothing = alice_api.post("/api/datasets/", {"name": "none"}, format="json").json()["id"]
    assert alice_api.put(f"/api/datasets/{everything}/sampling/", {"graph": graph_id, "rate": 1}, format="json").status_code == 200
    bad = alice_api.put(f"/api/datasets/{nothing}/sampling/", {"graph": graph_id, "rate": 1.5}, format="json")
    assert bad.status_code == 400 and bad.json()["problems"][0]["path"] == "rate"
    assert alice_api.post("/api/endpoints/", {"graph": graph_id, "slug": "hi"}, format="json").status_code == 201
    assert alice_api.post("/api/endpoints/hi/publish/", {}, format="json").status_code == 200
    key = alice_api.post("/api/api-keys/", {"name": "k"}, format="json").json()
    import urllib.request

    request = urllib.request.Request(f"{live_stack.http_url}/api/v1/flows/hi/run", method="POST",
                                     data=json.dumps({"input": {"who": "Ada"}}).encode(),
                                     headers={"Authorization": f"Bearer {key['key']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status in (200, 202)
    canvas_run = start_run(alice_api, graph_id, {"who": "canvas"})
    wait_finished(canvas_run)
    deadline = time.monotonic() + 20
    while not Dataset.objects.get(pk=everything).items.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    items = list(Dataset.objects.get(pk=everything).items.all())
    assert len(items) == 1 and items[0].input == {"who": "Ada"}, "endpoint runs only, not canvas runs"
    assert EndpointCall.objects.filter(run_id=items[0].source_run_id).exists()
    assert not Dataset.objects.get(pk=nothing).items.exists()
    assert sample_run(items[0].source_run_id) == [], "a run is sampled once per dataset"
    assert Run.objects.filter(graph_id=graph_id, source="eval").count() == 0
