"""The eval gate compares like with like: only evals scored with the policy's scorers are evidence.

Eval runs are written as the scoring leaves them (status, scorers, pooled pass rate); the gate is asked through
the publish API, the way an admin meets it."""
from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from backend.evals.gate import gate_check
from backend.evals.models import Dataset, EvalPolicy, EvalRun
from backend.graphs.models import Graph

from ..endpoints.conftest import create_graph, save_version, tagged_spec

pytestmark = pytest.mark.django_db

POLICY_SCORERS = [{"type": "contains", "name": "says hello", "text": "hello"},
                  {"type": "regex", "name": "short", "pattern": "^.{0,200}$"}]
OTHER_SCORERS = [{"type": "contains", "name": "says hello", "text": "hi"}]


def gated_graph(api: Any) -> Graph:
    """Version 1 published (production's release, the baseline), version 2 saved, then a policy on a held-out set."""
    graph = Graph.objects.get(pk=create_graph(api, tagged_spec("one")))
    assert api.post("/api/endpoints/", {"graph": graph.pk, "slug": "gated"}, format="json").status_code == 201
    save_version(api, graph.pk, tagged_spec("two"))
    dataset = Dataset.objects.create(workspace=graph.workspace, name="held out", held_out=True)
    policy = EvalPolicy.objects.create(graph=graph, scorers=POLICY_SCORERS, threshold=0.1)
    policy.datasets.set([dataset])
    return graph


def evaluated(graph: Graph, version: int, scorers: list[dict[str, Any]], passed: int, n: int = 10) -> EvalRun:
    return EvalRun.objects.create(
        workspace=graph.workspace, dataset=Dataset.objects.get(workspace=graph.workspace), graph=graph,
        graph_version=graph.versions.get(number=version), scorers=scorers, status=EvalRun.Status.SUCCEEDED,
        total=n, done=n, finished_at=timezone.now(),
        summary={"pass_rate": {"passed": passed, "n": n, "value": passed / n}})


def publish_v2(api: Any) -> Any:
    return api.post("/api/endpoints/gated/publish/", {"version": 2}, format="json")


def test_a_baseline_scored_with_other_scorers_is_no_baseline_and_the_verdict_says_why(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = gated_graph(alice_api)
    evaluated(graph, 1, OTHER_SCORERS, passed=10)  # 100% under another rule: not comparable with the 0% below
    evaluated(graph, 2, POLICY_SCORERS, passed=0)

    verdict = gate_check(user=alice, graph=graph, version=graph.versions.get(number=2))
    assert verdict is not None and verdict.allowed and verdict.baseline_pass_rate is None
    assert "no baseline" in verdict.reason and "other scorers than the policy's" in verdict.reason
    published = publish_v2(alice_api)

    assert published.status_code == 200, published.json()


def test_a_candidate_scored_only_with_other_scorers_has_no_numbers_and_is_refused(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = gated_graph(alice_api)
    evaluated(graph, 1, POLICY_SCORERS, passed=9)
    evaluated(graph, 2, OTHER_SCORERS, passed=10)  # a perfect score under an easier rule proves nothing

    refused = publish_v2(alice_api)

    assert refused.status_code == 409, refused.json()
    [problem] = refused.json()["problems"]
    assert (problem["baseline_pass_rate"], problem["candidate_pass_rate"]) == (0.9, None)
    assert "under the policy's scorers" in problem["message"]
    assert problem["scorers"] == {"baseline_set_aside": False, "candidate_set_aside": True}


def test_the_same_scorers_in_another_order_are_compared_and_a_drop_is_refused(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = gated_graph(alice_api)
    evaluated(graph, 1, [dict(reversed(list(s.items()))) for s in reversed(POLICY_SCORERS)], passed=9)
    evaluated(graph, 2, POLICY_SCORERS, passed=5)
    evaluated(graph, 2, OTHER_SCORERS, passed=10)  # newer, but under other scorers: set aside, the 50% counts

    refused = publish_v2(alice_api)

    assert refused.status_code == 409, refused.json()
    [problem] = refused.json()["problems"]
    assert (problem["baseline_pass_rate"], problem["candidate_pass_rate"], problem["drop"]) == (0.9, 0.5, 0.4)
    assert problem["scorers"] == {"baseline_set_aside": False, "candidate_set_aside": True}
