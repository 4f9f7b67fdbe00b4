"""Replay from a run or a node: the API's refusals, then the live stack with the fake provider over HTTP.

Live: API → Celery worker → engine → litellm → bench/fake_openai.py, on PostgreSQL and Redis; the model
calls are counted at the fake server, so a step that was not re-run cannot hide behind a cache or a stub.
"""
from __future__ import annotations

from typing import Any

import pytest

from backend.runs.models import Run, Span
from bench.fake_openai import FakeConfig
from tests.runs.live import create_graph, start_run, wait_finished


def chain_spec(alias: str, third_prompt: str = "C {{ nodes.b.output }}") -> dict[str, Any]:
    prompts = {"a": "A {{ input.topic }}", "b": "B {{ nodes.a.output }}", "c": third_prompt,
               "d": "D {{ nodes.c.output }}"}
    # Temperature above 0 and no cache: every step that runs reaches the provider.
    steps = [{"id": k, "type": "llm", "config": {"model": alias, "prompt": p, "stream": False, "cache": False,
                                                  "params": {"temperature": 0.5}}} for k, p in prompts.items()]
    ids = ["in", "a", "b", "c", "d", "out"]
    return {"schema": "patchbay.graph/v1", "name": "four steps", "inputs": {"type": "object"},
            "nodes": [{"id": "in", "type": "input"}, *steps,
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.d.output }}"}}],
            "edges": [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]}


def replay(api: Any, run_id: str, **body: Any) -> Any:
    return api.post(f"/api/runs/{run_id}/replay/", body, format="json")


# --- refusals (no worker: runs stay queued) ------------------------------------------------------------

@pytest.mark.django_db
def test_a_replay_names_what_is_wrong(alice_api: Any) -> None:
    graph = create_graph(alice_api, chain_spec("fast"))
    queued = start_run(alice_api, graph, {"topic": "x"})
    refused = replay(alice_api, queued, from_node="c")
    assert refused.status_code == 409 and refused.json()["problems"][0]["path"] == "run"
    Run.objects.filter(pk=queued).update(status=Run.Status.SUCCEEDED)
    never_ran = replay(alice_api, queued, from_node="c")  # no stored span for a or b: they would run again
    assert never_ran.status_code == 400 and never_ran.json()["problems"][0]["path"] == "from_node"
    assert "in, a, b" in never_ran.json()["problems"][0]["message"]
    unknown = replay(alice_api, queued, from_node="nope")
    assert unknown.status_code == 400 and unknown.json()["problems"][0]["path"] == "from_node"
    upstream = replay(alice_api, queued, from_node="c", override={"node": "a", "prompt": "changed"})
    assert upstream.status_code == 400 and upstream.json()["problems"][0]["path"] == "override.node"
    no_version = replay(alice_api, queued, version=9)
    assert no_version.status_code == 400 and no_version.json()["problems"][0]["path"] == "version"
    assert Run.objects.filter(source="replay").count() == 0


@pytest.mark.django_db
def test_another_workspace_cannot_replay_or_compare(alice_api: Any, bob_api: Any) -> None:
    run_id = start_run(alice_api, create_graph(alice_api, chain_spec("fast")), {"topic": "x"})
    Run.objects.filter(pk=run_id).update(status=Run.Status.SUCCEEDED)
    assert replay(bob_api, run_id).status_code == 404
    assert bob_api.get(f"/api/runs/{run_id}/compare/{run_id}/").status_code == 404


# --- live ----------------------------------------------------------------------------------------------

@pytest.fixture
def fake_alias(fake_openai: Any) -> str:
    from backend.providers.models import ModelAlias

    fake_openai.configure(**vars(FakeConfig()))
    ModelAlias.objects.create(alias="fake", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=10)
    return "fake"


def node_spans(run_id: str) -> dict[str, Span]:
    return {s.node_id: s for s in Span.objects.filter(run_id=run_id, kind="node", parent_id="")}


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_replay_from_node_three_calls_only_nodes_three_and_four(live_stack, fake_openai, fake_alias, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = create_graph(alice_api, chain_spec(fake_alias))
    original = wait_finished(start_run(alice_api, graph, {"topic": "tides"}))
    assert original.status == "succeeded" and original.llm_calls == 4
    fake_openai.reset_stats()

    response = replay(alice_api, str(original.pk), from_node="c",
                      override={"node": "c", "prompt": "Shorter: {{ nodes.b.output }}"})
    assert response.status_code == 201, response.json()
    assert response.json()["replay_of"] == str(original.pk) and response.json()["source"] == "replay"
    again = wait_finished(response.json()["id"])
    assert again.status == "succeeded", again.error
    assert fake_openai.stats()["requests"] == 2  # c and d, counted where the calls arrive
    assert again.llm_calls == 2

    spans, before = node_spans(str(again.pk)), node_spans(str(original.pk))
    assert spans["b"].output == before["b"].output and spans["b"].attributes["patchbay.seeded"] is True
    c_call = Span.objects.get(run=again, kind="llm", parent_id=spans["c"].span_id)
    assert "Shorter: " + before["b"].output in str(c_call.input)  # the changed prompt, fed the stored output

    diff = alice_api.get(f"/api/runs/{original.pk}/compare/{again.pk}/").json()
    changed = {n["node_id"]: n["changed"] for n in diff["nodes"]}
    assert changed == {"in": False, "a": False, "b": False, "c": True, "d": True, "out": True}
    assert diff["output"]["changed"] and diff["output"]["replay"] == again.output
    assert diff["totals"]["llm_calls"] == {"original": 4, "replay": 2, "delta": -2}
    assert diff["totals"]["cost_usd"]["delta"] == pytest.approx(again.cost_usd - original.cost_usd)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_replay_on_another_version_reruns_everything(live_stack, fake_openai, fake_alias, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = create_graph(alice_api, chain_spec(fake_alias))
    original = wait_finished(start_run(alice_api, graph, {"topic": "tides"}))
    put = alice_api.put(f"/api/graphs/{graph}/", {"spec": chain_spec(fake_alias, "C2 {{ nodes.b.output }}")},
                        format="json")
    assert put.status_code == 201, put.json()  # a new version
    fake_openai.reset_stats()
    response = replay(alice_api, str(original.pk), version=2)
    assert response.status_code == 201, response.json()
    again = wait_finished(response.json()["id"])
    assert again.status == "succeeded" and again.graph_version.number == 2 and again.input == original.input
    assert fake_openai.stats()["requests"] == 4
    assert not any(s.attributes.get("patchbay.seeded") for s in node_spans(str(again.pk)).values())
    diff = alice_api.get(f"/api/runs/{original.pk}/compare/{again.pk}/").json()
    assert [n["node_id"] for n in diff["nodes"] if n["changed"]] == ["c", "d", "out"]
