"""The run row's plain statements (runs/trace_writes.py) and the claim that reads versions once per worker."""
from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from backend.graphs.models import Graph
from backend.runs.execution import _graph_version, cancel_requested, claim
from backend.runs.finished import finish_run, notify_finished
from backend.runs.models import Run
from backend.runs.trace_writes import update_run

from .live import at_once, create_graph, one_step_chain

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = one_step_chain("rows")


def _run(graph: Graph, **fields: object) -> Run:
    return Run.objects.create(**{"workspace": graph.workspace, "graph": graph, "graph_version": graph.latest_version,
                                 "input": {"q": 1}, "trace_id": "e" * 32, **fields})


@pytest.fixture
def graph(alice_api) -> Graph:  # type: ignore[no-untyped-def]
    return Graph.objects.get(pk=create_graph(alice_api, CHAIN))


def test_update_run_writes_only_from_the_statuses_and_values_it_is_given(graph: Graph) -> None:
    run = _run(graph)
    assert update_run(run.pk, {"status": "running"}, statuses=["succeeded", "failed"]) == 0
    assert update_run(run.pk, {"finish_notified": True}, where={"finish_notified": True}) == 0
    assert Run.objects.get(pk=run.pk).status == "queued"
    now = timezone.now()
    assert update_run(run.pk, {"status": "running", "started_at": now, "output": None, "resolved": {"a": [1]}},
                      statuses=["queued"]) == 1
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.started_at, stored.output, stored.resolved) == ("running", now, None, {"a": [1]})


def test_an_end_moves_a_run_once_and_its_hook_fires_once(graph: Graph) -> None:
    run = _run(graph, status="running")
    assert finish_run(run.pk, "succeeded", output={"answer": 42}, totals={"llm_calls": 3, "cost_usd": 0.5})
    assert not finish_run(run.pk, "failed", error="late")  # already ended: the first end stands
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.output, stored.error, stored.llm_calls, stored.cost_usd) == (
        "succeeded", {"answer": 42}, "", 3, 0.5)
    assert stored.finished_at is not None
    assert Run.objects.get(pk=run.pk).finish_notified  # fired on commit (no transaction here: at once)
    assert not notify_finished(run.pk)


def test_the_cancel_check_reads_the_flag(graph: Graph) -> None:
    run = _run(graph, status="running")
    assert cancel_requested(run.pk) is False
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert cancel_requested(str(run.pk)) is True


def test_a_claim_runs_the_stored_spec_whatever_an_earlier_override_did_to_its_copy(graph: Graph) -> None:
    replay = _run(graph, replay_override={"node": "a", "prompt": "changed {{ input }}"})
    claimed = claim(replay.pk)
    assert claimed is not None
    assert [n.get("config", {}).get("prompt") for n in claimed.spec["nodes"]][1] == "changed {{ input }}"
    claimed.spec["nodes"].clear()  # whatever the engine does to its spec stays in that run
    plain = claim(_run(graph).pk)
    assert plain is not None
    assert plain.spec == graph.latest_version.spec  # type: ignore[union-attr]
    assert _graph_version(graph.latest_version_id).spec == graph.latest_version.spec  # type: ignore[union-attr]
    assert Run.objects.get(pk=replay.pk).status == "running"
    assert Run.objects.get(pk=replay.pk).resolved == {"prompts": {}, "models": {"fast": "demo/fast"}}


def test_a_claim_of_a_run_stopped_while_queued_ends_it_cancelled(graph: Graph) -> None:
    run = _run(graph, cancel_requested=True)
    assert claim(run.pk) is None
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    assert claim(run.pk) is None  # a second delivery does nothing


def test_a_compiled_query_answers_for_each_value_it_is_given(graph: Graph) -> None:
    from django.db.models import Value

    from backend.config.compiled_query import CompiledQuery

    first, second = _run(graph, input={"n": 1}), _run(graph, input={"n": 2})
    query = CompiledQuery(lambda pk: Run.objects.filter(pk=pk).annotate(tag=Value("t")), uuid.UUID(int=0))
    assert [(r.pk, r.input, r.tag) for r in query.models(second.pk)] == [(second.pk, {"n": 2}, "t")]
    assert [(r.pk, r.input) for r in query.models(first.pk)] == [(first.pk, {"n": 1})]
    assert list(query.models(uuid.uuid4())) == []
    rows = CompiledQuery(lambda pk: Run.objects.filter(pk=pk).values_list("status", "trace_id"), uuid.UUID(int=0))
    assert rows.rows(first.pk) == [("queued", "e" * 32)]


def test_two_concurrent_claims_run_a_run_once(graph: Graph) -> None:
    run = _run(graph)
    claimed = at_once(*[lambda: claim(run.pk) is not None] * 3)
    assert sorted(claimed) == [False, False, True]
    assert Run.objects.get(pk=run.pk).status == "running"


@pytest.mark.parametrize("meanwhile", ["cancelled", "ended"])
def test_a_stop_or_end_between_the_claims_read_and_write_is_never_overwritten(
        graph: Graph, monkeypatch: pytest.MonkeyPatch, meanwhile: str) -> None:
    from backend.runs import execution

    run = _run(graph)
    planned = execution.resolved_for

    def plan_while_the_run_changes(*args: object, **kwargs: object) -> object:
        if meanwhile == "cancelled":  # what run_cancel does to a queued run
            Run.objects.filter(pk=run.pk, status="queued").update(cancel_requested=True)
        else:  # the sweep or a refused queue ends it
            assert finish_run(run.pk, "failed", expected="queued", error="gone")
        return planned(*args, **kwargs)

    monkeypatch.setattr(execution, "resolved_for", plan_while_the_run_changes)
    assert claim(run.pk) is None
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.started_at) == ("cancelled" if meanwhile == "cancelled" else "failed", None)
    assert stored.finish_notified  # ended once, by whoever ended it, and its hook fired
