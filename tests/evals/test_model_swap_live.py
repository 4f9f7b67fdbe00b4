"""An eval that tries another model for one step of a route, on the live stack (PostgreSQL, Redis, a Celery
worker) with both models on bench/fake_openai.py over HTTP; and the advisor finding those evals feed."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.evals.models import EvalItem, EvalPolicy
from backend.graphs.models import Graph
from backend.providers.models import ModelAlias
from tests.insights.factory import router, run, save_runs
from tests.runs.live import create_graph

from .test_eval_live import wait_eval

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

TECH = "The app crashes when I open the settings page"
SPEC = {"schema": "patchbay.graph/v1", "name": "help desk", "inputs": {"type": "object"}, "nodes": [
    {"id": "input", "type": "input"},
    {"id": "triage", "type": "router", "config": {"mode": "rules", "input": "{{ input.q }}",
                                                  "routes": [{"label": "technical", "keywords": ["crash"]}]}},
    {"id": "fix", "type": "llm", "config": {"model": "dear", "stream": False,
                                            "prompt": "Help the customer fix this: {{ input.q }}"}},
    {"id": "thanks", "type": "transform", "config": {"value": "fake answer: thank you"}},
    {"id": "output", "type": "output", "config": {
        "value": "{% if 'fix' in nodes %}{{ nodes.fix.output }}{% else %}{{ nodes.thanks.output }}{% endif %}"}}],
    "edges": [{"from": "input", "to": "triage"}, {"from": "triage", "port": "technical", "to": "fix"},
              {"from": "triage", "port": "default", "to": "thanks"}, {"from": "fix", "to": "output"},
              {"from": "thanks", "to": "output"}]}
SCORERS = [{"type": "contains", "name": "answered", "text": "fake answer"}]


@pytest.fixture
def fake_aliases(fake_openai: Any) -> Iterator[None]:
    """Three aliases of its own on the fake: a dear one, a cheap one, and a cheaper one that answers nothing.

    Deleted afterwards through the ORM, so the worker's cached routes are told (the per-test reset is not)."""
    names = ("dear", "cheap", "blank")
    for alias, model, cost_in, cost_out in zip(names, ("openai/gpt-4o", "openai/gpt-4o-mini",
                                                       "openai/gpt-4o-mini+empty_completion"),
                                               (2.5, 0.15, 0.1), (10.0, 0.6, 0.4), strict=True):
        ModelAlias.objects.update_or_create(alias=alias, defaults={
            "model": model, "api_base": fake_openai.url, "api_key_env": "PATH", "max_retries": 0,
            "input_cost_per_mtok": cost_in, "output_cost_per_mtok": cost_out, "fallbacks": [],
            "breaker_failures": 0})  # no circuit breaker: every item calls the model, so the counts are exact
    yield
    for row in ModelAlias.objects.filter(alias__in=names):
        row.delete()


def held_out_dataset(api: Any, technical: int = 22, other: int = 4) -> int:
    dataset = api.post("/api/datasets/", {"name": "held-out tickets", "held_out": True}, format="json").json()["id"]
    for n in range(technical + other):
        question = f"{TECH} (ticket {n})" if n < technical else f"Where is my invoice number {n}?"
        assert api.post(f"/api/datasets/{dataset}/items/", {"input": {"q": question}}, format="json").status_code == 201
    return dataset


def start(api: Any, graph: int, dataset: int, **extra: Any) -> dict[str, Any]:
    answer = api.post("/api/evals/", {"dataset": dataset, "graph": graph, "scorers": SCORERS, **extra}, format="json")
    assert answer.status_code == 201, answer.json()
    assert wait_eval(answer.json()["id"], timeout=90).status == "succeeded"
    return answer.json()


def cheaper_findings(api: Any, graph: int) -> list[dict[str, Any]]:
    body = api.get(f"/api/graphs/{graph}/insights/").json()
    return [f for f in body["findings"] if f["rule"] == "cheaper_route_alias"]


def step_cost_per_item(eval_id: str) -> float:
    """What the route's step cost per technical item, from the runs' own totals (the step is their only call)."""
    items = [i for i in EvalItem.objects.filter(eval_run_id=eval_id).select_related("run")
             if "crash" in i.run.input["q"]]
    return sum(i.run.cost_usd for i in items) / len(items)


def test_an_eval_tries_a_cheaper_model_on_a_route_and_the_advisor_says_so_only_when_it_answers_as_well(
        live_stack, alice, alice_api, fake_openai, fake_aliases) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, SPEC)
    dataset = held_out_dataset(alice_api)
    assert alice_api.put(f"/api/graphs/{graph_id}/eval-policy/", {"datasets": [dataset], "scorers": SCORERS,
                                                                  "threshold": 0.05}, format="json").status_code == 200
    # Traffic in the period: 10 of 40 runs took the technical route.
    save_runs(Graph.objects.get(pk=graph_id), [run(router("triage", "technical")) for _ in range(10)]
              + [run(router("triage", "default")) for _ in range(30)])

    fake_openai.reset_stats()
    baseline = start(alice_api, graph_id, dataset)
    assert fake_openai.stats()["calls_by_model"] == {"gpt-4o": 22}
    assert cheaper_findings(alice_api, graph_id) == [], "no eval has tried another model yet"

    # A cheaper model that answers nothing: it really is called, scores worse, and the advisor stays quiet.
    blank = start(alice_api, graph_id, dataset, candidate_model={"node": "fix", "model": "blank"})
    assert blank["candidate"] == {"node": "fix", "model": "blank", "was": "dear"}
    assert fake_openai.stats()["calls_by_model"] == {"gpt-4o": 22, "gpt-4o-mini+empty_completion": 22}
    assert wait_eval(blank["id"]).summary["pass_rate"]["passed"] == 4, "only the items off the route pass"
    assert cheaper_findings(alice_api, graph_id) == []

    # A cheaper model that answers as well: the step calls it (the other steps are unchanged), and the finding
    # names the route, the model, the pass rates and the money per 1,000 runs.
    cheap = start(alice_api, graph_id, dataset, candidate_model={"node": "fix", "model": "cheap"})
    assert fake_openai.stats()["calls_by_model"]["gpt-4o-mini"] == 22
    assert fake_openai.stats()["calls_by_model"]["gpt-4o"] == 22, "the swap did not call the step's own model"
    tech_run = next(i.run for i in EvalItem.objects.filter(eval_run_id=cheap["id"]).select_related("run")
                    if "crash" in i.run.input["q"])
    assert {s.model for s in tech_run.spans.filter(kind="llm")} == {"openai/gpt-4o-mini"}
    findings = cheaper_findings(alice_api, graph_id)
    assert len(findings) == 1, findings
    found = findings[0]
    assert found["node_id"] == "fix" and found["title"] == "Route 'technical' could use 'cheap'"
    assert "Switch step 'fix' to 'cheap'" in found["advice"] and "held-out tickets" in found["advice"]
    assert found["evidence"][0].startswith("pass rate 100 % with cheap against 100 % with dear, on the 22 "
                                           "held-out items that took route 'technical'")
    assert "up to 5 points lower" in found["evidence"][0], "the graph's eval-policy threshold"
    saving = step_cost_per_item(baseline["id"]) - step_cost_per_item(cheap["id"])
    assert saving > 0
    assert found["usd_at_stake"] == pytest.approx(saving * 10)
    assert found["usd_per_1000_runs"] == pytest.approx(saving * 10 / 40 * 1000)

    # Once the flow names the cheaper model, the advice is moot; a stricter policy would silence it as well.
    EvalPolicy.objects.filter(graph_id=graph_id).update(threshold=0.0)
    assert len(cheaper_findings(alice_api, graph_id)) == 1, "as well, not worse: a drop of 0 passes a 0 threshold"
    # (The policy goes first: with it, the new version would start its own evals, still writing as the test ends.)
    EvalPolicy.objects.filter(graph_id=graph_id).delete()
    changed = {**SPEC, "nodes": [{**n, "config": {**n["config"], "model": "cheap"}} if n["id"] == "fix" else n
                                 for n in SPEC["nodes"]]}
    assert alice_api.put(f"/api/graphs/{graph_id}/", {"spec": changed}, format="json").status_code in (200, 201)
    assert cheaper_findings(alice_api, graph_id) == []
