"""Restarts are survivable, a dead worker is noticed in seconds: real processes on private services."""
from __future__ import annotations

import time

import httpx
import pytest

from backend.graphs.services import graph_create, workspace_for_user
from backend.providers.models import ModelAlias
from backend.runs.models import Run, RunEvent

from ..conftest import token_for
from .conftest import FaultStack
from .services import wait_until

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

FINISHED = {"succeeded", "failed", "budget_exceeded", "cancelled"}
ONE_CALL = {"schema": "patchbay.graph/v1", "name": "one-call",
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "ask", "type": "llm", "config": {"model": "slow", "prompt": "Answer {{ input }}"}},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}],
            "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}


def slow_graph(user, fake_openai, latency_ms: float) -> int:  # type: ignore[no-untyped-def]
    fake_openai.configure(latency_ms=latency_ms, fail_first_n=0, hang_rate=0.0)
    ModelAlias.objects.create(alias="slow", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=60)
    return graph_create(workspace=workspace_for_user(user), user=user, spec=ONE_CALL).pk


def start(api: httpx.Client, graph_id: int) -> httpx.Response:
    return api.post("/api/runs/", json={"graph": graph_id, "input": {"q": "hello"}})


def finished(run_id: str, timeout: float) -> Run:
    return wait_until(lambda: (r := Run.objects.get(pk=run_id)).status in FINISHED and r, timeout, f"run {run_id} ends")


def seqs(run_id: str) -> list[int]:
    return list(RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", flat=True))


def client(url: str, user) -> httpx.Client:  # type: ignore[no-untyped-def]
    return httpx.Client(base_url=url, headers={"Authorization": f"Token {token_for(user)}"}, timeout=30)


def test_a_redis_restart_mid_run_loses_no_run_and_no_event(fault_stack: FaultStack, fake_openai, alice) -> None:  # type: ignore[no-untyped-def]
    graph_id = slow_graph(alice, fake_openai, 4000)
    worker = fault_stack.worker()
    api = client(fault_stack.web(), alice)
    run_id = start(api, graph_id).json()["id"]
    wait_until(lambda: Run.objects.get(pk=run_id).status == "running", 30, "run starts")
    time.sleep(1)  # the model call is under way
    fault_stack.redis.kill()
    time.sleep(3)
    fault_stack.redis.start()  # same port, empty: Redis here keeps nothing on disk

    run = finished(run_id, 60)
    assert run.status == "succeeded", (run.error, worker.tail())
    stored = seqs(run_id)
    assert stored == list(range(1, len(stored) + 1)) and len(stored) >= 6
    assert RunEvent.objects.get(run_id=run_id, seq=stored[-1]).type == "run.completed"
    assert worker.alive(), worker.tail()
    # The worker reconnected to the broker: a run started after the restart is taken and succeeds.
    fake_openai.configure(latency_ms=50)
    after = wait_until(lambda: (r := start(api, graph_id)).status_code == 201 and r, 30, "API back").json()["id"]
    assert finished(after, 60).status == "succeeded", worker.tail()


def test_a_worker_killed_mid_run_is_noticed_in_seconds(fault_stack: FaultStack, fake_openai, alice) -> None:  # type: ignore[no-untyped-def]
    graph_id = slow_graph(alice, fake_openai, 60000)
    doomed = fault_stack.worker("doomed")
    api = client(fault_stack.web(), alice)
    run_id = start(api, graph_id).json()["id"]
    wait_until(lambda: RunEvent.objects.filter(run_id=run_id, type="node.started").count() >= 2, 30, "model call")
    fault_stack.worker("survivor")  # sweeps for the dead one
    doomed.process.kill()
    killed_at = time.monotonic()
    run = finished(run_id, 30)
    took = time.monotonic() - killed_at
    assert run.status == "failed" and "worker" in run.error and "lost" in run.error
    assert took < 15, f"noticed after {took:.1f} s"
    last = RunEvent.objects.filter(run_id=run_id).order_by("-seq").first()
    assert last.type == "run.completed" and last.payload["status"] == "failed" and "lost" in last.payload["error"]


def test_a_run_started_while_the_broker_is_down_answers_503_and_is_not_left_queued(  # type: ignore[no-untyped-def]
        fault_stack: FaultStack, fake_openai, alice) -> None:
    graph_id = slow_graph(alice, fake_openai, 10)
    api = client(fault_stack.web(), alice)
    fault_stack.redis.kill()

    response = start(api, graph_id)
    assert response.status_code == 503 and response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "service_unavailable" and int(response.headers["Retry-After"]) > 0
    assert not Run.objects.filter(graph_id=graph_id, status="queued").exists()
    for run in Run.objects.filter(graph_id=graph_id):
        assert run.status == "failed" and run.error == "the queue was unavailable; nothing ran"
