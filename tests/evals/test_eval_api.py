"""The evals API's refusals (no worker needed: nothing is started)."""
from __future__ import annotations

import json

import pytest

from backend.evals.models import EvalRun
from backend.runs.models import Run

pytestmark = pytest.mark.django_db

SPEC = {"schema": "patchbay.graph/v1", "name": "strict", "nodes": [
    {"id": "input", "type": "input"}, {"id": "a", "type": "llm", "config": {"model": "fast", "prompt": "Hi {{ input.q }}"}},
    {"id": "output", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
    "inputs": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    "edges": [{"from": "input", "to": "a"}, {"from": "a", "to": "output"}]}


def test_an_item_that_does_not_fit_the_input_refuses_the_whole_eval(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = alice_api.post("/api/graphs/", {"spec": SPEC}, format="json").json()["id"]
    dataset = alice_api.post("/api/datasets/", {"name": "mixed"}, format="json").json()["id"]
    text = json.dumps({"input": {"q": "fine"}}) + "\n" + json.dumps({"input": {"nope": 1}}) + "\n"
    assert alice_api.post(f"/api/datasets/{dataset}/import/", {"format": "jsonl", "text": text},
                          format="json").status_code == 201
    answer = alice_api.post("/api/evals/", {"dataset": dataset, "graph": graph, "scorers": [{"type": "exact"}]},
                            format="json")
    assert answer.status_code == 400
    assert answer.json()["problems"][0]["path"].startswith("items[1]")
    assert not EvalRun.objects.exists() and not Run.objects.exists()


def test_bad_scorers_and_unknown_candidates_are_400s_naming_the_field(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = alice_api.post("/api/graphs/", {"spec": SPEC}, format="json").json()["id"]
    dataset = alice_api.post("/api/datasets/", {"name": "d"}, format="json").json()["id"]
    alice_api.post(f"/api/datasets/{dataset}/items/", {"input": {"q": "x"}}, format="json")
    bad = alice_api.post("/api/evals/", {"dataset": dataset, "graph": graph, "scorers": [{"type": "regex",
                                                                                          "pattern": "(?=a)"}]},
                         format="json")
    assert bad.status_code == 400 and bad.json()["problems"][0]["path"] == "scorers[0].pattern"
    unknown = alice_api.post("/api/evals/", {"dataset": dataset, "graph": graph, "scorers": [{"type": "exact"}],
                                             "candidate_prompt": "nothing@3"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["problems"][0]["path"] == "candidate_prompt"
    csv_bad = alice_api.post(f"/api/datasets/{dataset}/import/", {"format": "csv", "text": "input,labels\nx,[1]\n"},
                             format="json")
    assert csv_bad.status_code == 400 and csv_bad.json()["problems"] == [
        {"path": "line 2.labels", "message": "labels must be an object, e.g. {\"route\": \"billing\"}"}]
    export = alice_api.get(f"/api/datasets/{dataset}/export/?as=csv")
    assert export.status_code == 200 and export.content.decode().splitlines()[1].startswith('"{""q"": ""x""}"')
    policy = alice_api.put(f"/api/graphs/{graph}/eval-policy/", {"datasets": [dataset], "scorers": [{"type": "exact"}]},
                           format="json")
    assert policy.status_code == 400 and "not held out" in policy.json()["problems"][0]["message"]


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_export_then_import_gives_back_the_same_items(alice_api, kind: str) -> None:  # type: ignore[no-untyped-def]
    first = alice_api.post("/api/datasets/", {"name": "one"}, format="json").json()["id"]
    items = [{"input": {"q": "a, \"quoted\"\nline"}, "expected": {"n": 1.5}, "labels": {"route": "billing"}},
             {"input": "plain", "expected": None, "labels": {}}]
    for item in items:
        assert alice_api.post(f"/api/datasets/{first}/items/", item, format="json").status_code == 201
    text = alice_api.get(f"/api/datasets/{first}/export/?as={kind}").content.decode()
    second = alice_api.post("/api/datasets/", {"name": "two"}, format="json").json()["id"]
    assert alice_api.post(f"/api/datasets/{second}/import/", {"format": kind, "text": text},
                          format="json").status_code == 201
    copied = alice_api.get(f"/api/datasets/{second}/").json()["item_list"]
    assert [{k: i[k] for k in ("input", "expected", "labels")} for i in copied] == items


ROUTED = {"schema": "patchbay.graph/v1", "name": "routed", "inputs": {"type": "object"}, "nodes": [
    {"id": "input", "type": "input"},
    {"id": "triage", "type": "router", "config": {"mode": "rules", "input": "{{ input.q }}",
                                                  "routes": [{"label": "tech", "keywords": ["crash"]}]}},
    {"id": "tech", "type": "llm", "config": {"model": "frontier", "prompt": "Fix {{ input.q }}"}},
    {"id": "other", "type": "transform", "config": {"value": "thanks"}},
    {"id": "output", "type": "output", "config": {"value": "done"}}],
    "edges": [{"from": "input", "to": "triage"}, {"from": "triage", "port": "tech", "to": "tech"},
              {"from": "triage", "port": "default", "to": "other"}, {"from": "tech", "to": "output"},
              {"from": "other", "to": "output"}]}


@pytest.mark.parametrize(("candidate", "path", "words"), [
    ("fast", "candidate_model", "expected"),
    ({"model": "fast"}, "candidate_model.node", "step"),
    ({"node": "tech"}, "candidate_model.model", "alias"),
    ({"node": "nope", "model": "fast"}, "candidate_model.node", "no step 'nope'"),
    ({"node": "triage", "model": "fast"}, "candidate_model.node", "router step"),
    ({"node": "tech", "model": "no-such-alias"}, "candidate_model.model", "not a model alias"),
    ({"node": "tech", "model": "off"}, "candidate_model.model", "switched off"),
    ({"node": "tech", "model": "frontier"}, "candidate_model.model", "already uses"),
    ({"node": "tech", "model": "fast", "prompt": "x"}, "candidate_model.prompt", "not a field"),
])
def test_a_bad_model_to_try_is_a_400_naming_the_field(alice_api, candidate, path, words) -> None:  # type: ignore[no-untyped-def]
    from backend.providers.models import ModelAlias

    ModelAlias.objects.create(alias="off", model="demo/fast", enabled=False)
    graph = alice_api.post("/api/graphs/", {"spec": ROUTED}, format="json").json()["id"]
    dataset = alice_api.post("/api/datasets/", {"name": "d"}, format="json").json()["id"]
    alice_api.post(f"/api/datasets/{dataset}/items/", {"input": {"q": "crash"}}, format="json")
    answer = alice_api.post("/api/evals/", {"dataset": dataset, "graph": graph, "scorers": [{"type": "exact"}],
                                            "candidate_model": candidate}, format="json")
    assert answer.status_code == 400, answer.json()
    problem = answer.json()["problems"][0]
    assert problem["path"] == path and words in problem["message"], problem
    assert not EvalRun.objects.exists() and not Run.objects.exists()


def test_a_prompt_and_a_model_together_are_refused(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = alice_api.post("/api/graphs/", {"spec": ROUTED}, format="json").json()["id"]
    dataset = alice_api.post("/api/datasets/", {"name": "d"}, format="json").json()["id"]
    alice_api.post(f"/api/datasets/{dataset}/items/", {"input": {"q": "crash"}}, format="json")
    answer = alice_api.post("/api/evals/", {"dataset": dataset, "graph": graph, "scorers": [{"type": "exact"}],
                                            "candidate_prompt": "greet@1",
                                            "candidate_model": {"node": "tech", "model": "fast"}}, format="json")
    assert answer.status_code == 400 and answer.json()["problems"][0]["path"] == "candidate_model"
