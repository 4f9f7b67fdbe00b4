"""PostgreSQL stops for 5 s during 3 runs: every API answers 503 JSON meanwhile, and nothing needs a restart after.

Real processes on private services: a PostgreSQL cluster and a Redis of this
test's own (tests/faults/services.py), a Celery worker and Daphne on them, and
``bench/fake_openai.py`` answering in ~3 s. Only the private PostgreSQL is stopped.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..conftest import ROOT
from .conftest import FaultStack
from .services import PrivatePostgres, PrivateRedis, wait_until

pytestmark = [pytest.mark.live]

FINISHED = {"succeeded", "failed", "budget_exceeded", "cancelled"}
OUTAGE_S = 5.0


@pytest.fixture
def pg_stack() -> Iterator[tuple[FaultStack, PrivatePostgres]]:
    postgres, redis = PrivatePostgres(), PrivateRedis()
    try:
        postgres.start()
        postgres.create_database("patchbay")
        redis.start()
        stack = FaultStack(redis, postgres.url("patchbay"), f"pb-pgfault-{os.getpid()}")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=stack.env(),
                       check=True, capture_output=True, timeout=300)
        yield stack, postgres
        stack.stop()
    finally:
        redis.close()
        postgres.close()


def seed(stack: FaultStack, model_url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "tests.faults.seed_private", model_url], cwd=ROOT,
                          env=stack.env(DJANGO_SETTINGS_MODULE="backend.config.settings"), check=True,
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_unavailable(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json"), f"{what}: {response.text[:300]}"
    assert response.json()["error"] == "service_unavailable", what
    assert int(response.headers["Retry-After"]) > 0, what


def run_status(api: httpx.Client, run_id: str) -> dict[str, Any]:
    response = api.get(f"/api/runs/{run_id}/")
    assert response.status_code == 200, response.text[:300]
    return response.json()


def finished(api: httpx.Client, run_id: str, timeout: float) -> dict[str, Any]:
    return wait_until(lambda: (r := run_status(api, run_id))["status"] in FINISHED and r, timeout,
                      f"run {run_id} ends", every=0.3)


def test_a_postgres_stop_answers_503_and_runs_after_it_succeed_without_a_restart(  # type: ignore[no-untyped-def]
        pg_stack: tuple[FaultStack, PrivatePostgres], fake_openai) -> None:
    stack, postgres = pg_stack
    fake_openai.configure(latency_ms=3000, fail_first_n=0, hang_rate=0.0)
    seeded = seed(stack, fake_openai.url)
    worker = stack.worker()
    url = stack.web()
    api = httpx.Client(base_url=url, headers={"Authorization": f"Token {seeded['token']}"}, timeout=30)
    flows = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {seeded['key']}"}, timeout=30)
    browser = httpx.Client(base_url=url, timeout=30)  # a signed-in canvas: session cookie + CSRF token
    browser.get("/api/session/")
    signed_in = browser.post("/api/session/login/", json={"username": "alice", "password": "alice-pass-123"},
                             headers={"X-CSRFToken": browser.cookies["csrftoken"]})
    assert signed_in.status_code == 200, signed_in.text[:300]
    body = {"graph": seeded["graph"], "input": {"q": "hello"}}
    flow_path = f"/api/v1/flows/{seeded['slug']}/run"

    in_flight = []
    for _ in range(3):
        response = api.post("/api/runs/", json=body)
        assert response.status_code == 201, response.text[:300]
        in_flight.append(response.json()["id"])
    wait_until(lambda: all(run_status(api, r)["status"] == "running" for r in in_flight), 30, "runs start")

    postgres.stop("fast")
    stopped_at = time.monotonic()
    answers = {
        "GET /api/runs/": lambda: api.get("/api/runs/"),
        "POST /api/runs/": lambda: api.post("/api/runs/", json=body),
        "GET /api/session/ (session cookie)": lambda: browser.get("/api/session/"),
        "GET /admin/ (plain Django view, session cookie)": lambda: browser.get("/admin/"),
        f"POST {flow_path}": lambda: flows.post(flow_path, json={"input": {"q": "hello"}, "mode": "async"}),
    }
    for what, ask in answers.items():
        assert_unavailable(ask(), what)
    assert time.monotonic() - stopped_at < OUTAGE_S, "the checks took longer than the outage"
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
    postgres.start()

    # Back: the same worker and web server take new runs at once (retried only while PostgreSQL finishes starting).
    fake_openai.configure(latency_ms=200)
    after = [wait_until(lambda: (r := api.post("/api/runs/", json=body)).status_code == 201 and r, 30,
                        "REST API back").json()["id"]]
    called = flows.post(flow_path, json={"input": {"q": "again"}, "mode": "sync"})
    assert called.status_code == 200, called.text[:300]
    assert called.json()["status"] == "succeeded"
    after += [called.headers["X-Run-Id"], api.post("/api/runs/", json=body).json()["id"]]
    for run_id in after:
        run = finished(api, run_id, 60)
        assert run["status"] == "succeeded", (run, worker.tail())

    # The runs in flight bridged the outage: the sink retried its writes, the cancel checks waited it out.
    for run_id in in_flight:
        run = finished(api, run_id, 60)
        assert run["status"] == "succeeded", (run["error"], worker.tail(80))
    listed = api.get("/api/runs/").json()
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert len(listed) == len(in_flight) + len(after)  # the calls refused during the outage started nothing
    assert not {"queued", "running"} & {r["status"] for r in listed}, listed
    assert worker.alive(), worker.tail()
