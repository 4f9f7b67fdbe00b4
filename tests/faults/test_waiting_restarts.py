"""A waiting run survives restarts of every process: worker, web server and Redis (emptied) all go, new ones
come, and a decision through the new web server resumes the run on the new worker, with no model call repeated."""
from __future__ import annotations

import pytest

from backend.graphs.services import graph_create, workspace_for_user
from backend.runs.models import Approval, Run

from .conftest import FaultStack
from .services import wait_until
from .test_restarts import ONE_CALL, client, finished, slow_graph

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REVIEWED = {**ONE_CALL, "name": "reviewed",
            "nodes": [*ONE_CALL["nodes"][:2],
                      {"id": "review", "type": "approval", "config": {"show": "{{ nodes.ask.output }}"}},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.review.output }}"}}],
            "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "review"},
                      {"from": "review", "port": "approved", "to": "out"}]}


def test_a_waiting_run_survives_restarts_of_every_process(fault_stack: FaultStack, fake_openai, alice) -> None:  # type: ignore[no-untyped-def]
    slow_graph(alice, fake_openai, 50)  # the "slow" alias on the fake, answering at once
    graph_id = graph_create(workspace=workspace_for_user(alice), user=alice, spec=REVIEWED).pk
    worker = fault_stack.worker("before")
    web = fault_stack.web()
    fake_openai.reset_stats()
    with client(web, alice) as api:
        run_id = api.post("/api/runs/", json={"graph": graph_id, "input": {"q": "hi"}, "fresh": True}).json()["id"]
    wait_until(lambda: Run.objects.get(pk=run_id).status == "waiting", 60, "run waits")
    assert fake_openai.stats()["requests"] == 1

    for child in list(fault_stack.children):  # every process goes: the worker and the web server...
        child.process.kill()
        child.process.wait(timeout=10)
    fault_stack.children.clear()
    fault_stack.redis.kill()  # ...and Redis, which comes back empty (no persistence here)
    fault_stack.redis.start()
    assert not worker.alive()

    new_worker = fault_stack.worker("after")
    approval = Approval.objects.get(run_id=run_id)
    with client(fault_stack.web(), alice) as api:
        answer = wait_until(lambda: (r := api.post(f"/api/approvals/{approval.pk}/decide/",
                                                   json={"action": "approve", "output": "edited"}))
                            .status_code != 503 and r, 30, "API back")
        assert answer.status_code == 200, answer.text
    run = finished(run_id, 60)
    assert run.status == "succeeded" and run.output == "edited", (run.error, new_worker.tail())
    assert fake_openai.stats()["requests"] == 1  # nothing before the wait ran again
