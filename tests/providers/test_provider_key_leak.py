"""A provider key never leaves its encrypted column: not in a span, a run's error, an export, an API answer,
a log line of the web server or the worker, nor anywhere in a dump of the database.

The live stack runs real flows through litellm to bench/fake_openai.py, started here with the key required (so
a successful answer proves the key reached the provider): one that succeeds, one the provider fails with 500s,
and one whose provider repeats the key in its error message, as careless OpenAI-compatible servers do. Then
``pg_dump`` (the PostgreSQL client on this machine) dumps the whole test database and the test greps it and
the logs for the key.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import connection

from bench.fake_openai import start_in_thread

from ..endpoints.conftest import make_key, publish
from ..runs.live import create_graph, start_run, wait_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SECRET = "sk-leak-canary-7f3a9c1e5b2d4086"


@pytest.fixture
def keyed_provider() -> Iterator[Any]:
    """A fake OpenAI server that answers only callers presenting ``SECRET``."""
    server = start_in_thread(api_key=SECRET)
    yield server
    server.stop()


def graph(alias: str) -> dict[str, Any]:
    return {
        "schema": "patchbay.graph/v1", "name": f"ask {alias}", "inputs": {"type": "object"},
        "nodes": [
            {"id": "in", "type": "input"},
            {"id": "ask", "type": "llm", "config": {"model": alias, "prompt": "Greet {{ input.who }}",
                                                    "params": {"temperature": 0.7}}},
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
        ],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
    }


def dump_database() -> str:
    """The whole test database as SQL, from the same pg_dump an operator would run."""
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is not installed (apt-get install postgresql-client)"
    db = connection.settings_dict
    done = subprocess.run(
        [pg_dump, "--no-owner", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
         "-U", db["USER"] or "postgres", db["NAME"]],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_provider_key_appears_in_no_span_log_export_error_or_dump(live_stack, keyed_provider, alice, alice_api,  # type: ignore[no-untyped-def]
                                                                     caplog) -> None:
    caplog.set_level(logging.DEBUG)  # this process's own logs (the API views called in-process), every level
    alice.is_staff = True
    alice.save()
    base = {"api_base": keyed_provider.url, "api_key": SECRET, "max_retries": 1, "timeout_s": 10}
    for alias, model in (("keyed", "openai/gpt-4o-mini"), ("keyed-500", "openai/gpt-4o-mini+error_500"),
                         ("keyed-echo", "openai/gpt-4o-mini+error_echo_key")):
        saved = alice_api.put(f"/api/models/{alias}/", {"model": model, **base}, format="json")
        assert saved.status_code == 200 and saved.json()["has_api_key"] is True, saved.content
        assert SECRET not in saved.content.decode()

    runs = {}
    for alias in ("keyed", "keyed-500", "keyed-echo"):
        graph_id = create_graph(alice_api, graph(alias))
        runs[alias] = wait_finished(start_run(alice_api, graph_id, {"who": "the team"}))
    assert runs["keyed"].status == "succeeded", runs["keyed"].error  # so the key did reach the provider
    assert runs["keyed-500"].status == "failed" and "500" in runs["keyed-500"].error
    assert runs["keyed-echo"].status == "failed" and "Incorrect API key provided" in runs["keyed-echo"].error
    assert keyed_provider.stats()["by_status"].get("401", 0) >= 1  # the provider did echo it back

    # An endpoint call that fails: what the caller reads back (sync answer and status URL).
    echo_graph = create_graph(alice_api, graph("keyed-echo"))
    publish(alice_api, echo_graph, "leak-check")
    caller_key = make_key(alice_api)["key"]
    seen: list[str] = []
    with httpx.Client(base_url=live_stack.http_url, timeout=30) as http:
        answer = http.post("/api/v1/flows/leak-check/run", json={"input": {"who": "x"}},
                           headers={"Authorization": f"Bearer {caller_key}"})
        assert answer.json()["status"] == "failed", answer.text
        seen.append(answer.text)
        seen.append(http.get(f"/api/v1/runs/{answer.json()['run_id']}",
                             headers={"Authorization": f"Bearer {caller_key}"}).text)
        # What the web server shows people: each run with its spans, its OTLP export, the registry and health.
        token = alice_api._credentials["HTTP_AUTHORIZATION"]
        for run in runs.values():
            for path in (f"/api/runs/{run.pk}/", f"/api/runs/{run.pk}/otlp", f"/api/runs/{run.pk}/events/"):
                response = http.get(path, headers={"Authorization": token})
                assert response.status_code == 200, (path, response.text)
                seen.append(response.text)
        for path in ("/api/models/", "/api/models/keyed/", "/api/model-health/", "/api/runs/?q=Incorrect"):
            response = http.get(path, headers={"Authorization": token})
            assert response.status_code == 200, (path, response.text)
            seen.append(response.text)
    assert "Incorrect API key provided" in "".join(seen)  # the failures themselves are visible, only not the key
    leaks = [text[:300] for text in seen if SECRET in text]
    assert leaks == [], leaks

    time.sleep(1)  # the worker's and the server's last lines reach their logs
    for name, lines in (("worker", live_stack.worker_log), ("web server", live_stack.server_log),
                        ("test process", caplog.text.splitlines())):
        assert lines, f"no {name} log to read"
        leaked = [line for line in lines if SECRET in line]
        assert leaked == [], f"the {name} log holds the provider key: {leaked[:3]}"

    dump = dump_database()
    # The dump holds what happened (the runs, their spans' errors, the alias rows), only not the key in clear.
    assert str(runs["keyed"].pk) in dump and "Incorrect API key provided" in dump and "keyed-echo" in dump
    assert SECRET not in dump
    assert SECRET[-12:] not in dump  # nor a recognisable piece of it
