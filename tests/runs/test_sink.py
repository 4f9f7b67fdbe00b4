"""The sink stores what the engine emits; text from a model is stored even when PostgreSQL would refuse it."""
from __future__ import annotations

import time

import pytest

from backend.graphs.models import Graph
from backend.runs.models import Run, RunEvent, Span
from backend.runs.sinks import persist_events

pytestmark = pytest.mark.django_db


def test_model_output_with_nul_characters_is_stored_with_a_replacement(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    from .test_live_runs import CHAIN

    graph = Graph.objects.get(pk=alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"])
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                             trace_id="c" * 32, status="running")
    now = time.time()
    span = {"span_id": "s1", "kind": "llm", "name": "llm", "node_id": "a", "status": "succeeded",
            "started_at": now, "ended_at": now, "output": "odd\u0000answer", "attributes": {}}
    persist_events(run.pk, [{"type": "span.completed", "seq": 1, "span": span},
                            {"type": "run.completed", "seq": 2, "status": "succeeded", "output": "x\u0000y",
                             "totals": {"input_tokens": 3}}])
    assert Span.objects.get(run=run).output == "odd\ufffdanswer"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.output == "x\ufffdy" and run.input_tokens == 3
    assert list(RunEvent.objects.filter(run=run).values_list("seq", flat=True)) == [1, 2]
