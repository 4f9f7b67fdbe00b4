"""An eval of 200 items on a one-node graph with a 100 ms model, through the whole stack.

Uvicorn (the project's web command) + one Celery worker process (threads pool, 64 threads) + PostgreSQL + Redis; the model alias points at
``bench/fake_openai.py`` over HTTP with 100 ms latency. Times from ``POST /api/evals/`` (which creates and
enqueues the 200 runs) until the eval run is ``succeeded`` (every item run, scored with exact match + latency,
and the summary written), polled every 50 ms. Target: under 10 s.

    .venv/bin/python bench/eval_200.py [--items 200] [--repeat 3]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, median, table, today, write_section  # noqa: E402
from bench._stack import Child, ensure_database, require_alive, stack_env, start_web, start_worker  # noqa: E402
from bench.fake_openai import FakeConfig, FakeServer, start_in_thread  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUEUE = f"patchbay-bench-eval-{os.getpid()}"
TARGET_S = 10.0
SPEC = {"schema": "patchbay.graph/v1", "name": "eval bench", "inputs": {"type": "object"},
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "say", "type": "llm", "config": {"model": "bench100", "prompt": "Answer {{ input.q }}"}},
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.say.output }}"}}],
        "edges": [{"from": "in", "to": "say"}, {"from": "say", "to": "out"}]}


def log(message: str) -> None:
    print(f"[eval_200 {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup_fixtures(url: str) -> str:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from backend.evals.models import Dataset
    from backend.graphs.models import Graph
    from backend.graphs.services import workspace_for_user
    from backend.providers.models import ModelAlias
    from backend.runs.models import Run

    user, _ = get_user_model().objects.get_or_create(username="bench")
    workspace = workspace_for_user(user)
    Run.objects.filter(workspace=workspace).delete()
    Dataset.objects.filter(workspace=workspace).delete()
    Graph.objects.filter(workspace=workspace).delete()
    ModelAlias.objects.update_or_create(alias="bench100", defaults={
        "model": "openai/gpt-4o-mini", "api_base": url, "api_key_env": "PATH", "enabled": True, "fallbacks": [],
        "max_retries": 2, "timeout_s": 30})
    token, _ = Token.objects.get_or_create(user=user)
    connections.close_all()
    return token.key


async def one_eval(http_url: str, token: str, items: int, label: str) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=http_url, headers={"Authorization": f"Token {token}"}, timeout=60) as c:
        graph = (await c.post("/api/graphs/", json={"spec": SPEC})).json()["id"]
        dataset = (await c.post("/api/datasets/", json={"name": f"bench {label}"})).json()["id"]
        # Distinct inputs, so no answer comes from the model cache.
        lines = "".join(json.dumps({"input": {"q": f"{label} question {i}"}, "expected": "x"}) + "\n"
                        for i in range(items))
        imported = await c.post(f"/api/datasets/{dataset}/import/", json={"format": "jsonl", "text": lines})
        assert imported.status_code == 201, imported.text
        started = time.perf_counter()
        answer = await c.post("/api/evals/", json={"dataset": dataset, "graph": graph, "scorers": [
            {"type": "exact"}, {"type": "latency", "max_ms": 5000}]})
        posted = time.perf_counter() - started
        assert answer.status_code == 201, answer.text
        eval_id = answer.json()["id"]
        while True:  # the list row is light (no items): poll it as a page would between websocket snapshots
            got = await c.get("/api/evals/", params={"dataset": dataset})
            row = got.json()[0] if got.status_code == 200 else {"status": "running", "done": "?"}
            if row["status"] != "running":
                break
            if time.perf_counter() - started > 120:
                raise RuntimeError(f"eval {eval_id} still running after 120 s: {row['done']} done")
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - started
        found = (await c.get(f"/api/evals/{eval_id}/")).json()
        log(f"{label}: POST {posted:.2f} s; wall {wall:.2f} s")
        summary = found["summary"]
        statuses: dict[str, int] = {}
        for row in found["item_list"]:
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        return {"wall": wall, "post": posted, "status": found["status"], "done": found["done"],
                "statuses": statuses, "p50": summary["latency_ms"]["p50"], "p95": summary["latency_ms"]["p95"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    env = stack_env(DATABASE_URL, REDIS_URL, QUEUE, tempfile.mkdtemp(prefix="patchbay-bench-"))
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "PATCHBAY_QUEUE", "PATCHBAY_DATA_DIR",
                                           "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL")})
    children: list[Child] = []
    fake: FakeServer | None = None
    try:
        ensure_database(DATABASE_URL, log)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        fake = start_in_thread(FakeConfig(latency_ms=100))
        token = setup_fixtures(fake.url)
        children.append(start_worker(env, f"bench-eval-{os.getpid()}@{socket.gethostname()}", 64))
        server, port = start_web(env)
        children.append(server)
        asyncio.run(one_eval(f"http://127.0.0.1:{port}", token, 5, "warm-up"))
        results = []
        for n in range(args.repeat):
            result = asyncio.run(one_eval(f"http://127.0.0.1:{port}", token, args.items, f"run {n + 1}"))
            require_alive(children)
            log(f"eval {n + 1}: {result['wall']:.2f} s ({result['statuses']})")
            results.append(result)
    finally:
        for child in children:
            child.stop()
        if fake is not None:
            fake.stop()
    rows = [[i + 1, f"{r['wall']:.2f}", f"{r['post']:.2f}", ", ".join(f"{k} {v}" for k, v in r["statuses"].items()),
             f"{r['p50']:.0f}", f"{r['p95']:.0f}"] for i, r in enumerate(results)]
    body = f"""## An eval of {args.items} items (`bench/eval_200.py`)

Measured {today()} on {machine()}. Uvicorn (the project's web command) + one Celery worker process (threads pool, 64 threads), PostgreSQL,
Redis; a one-llm-node graph whose alias calls `bench/fake_openai.py` over HTTP with 100 ms latency; scorers
exact match and latency. Wall time from `POST /api/evals/` (which creates and enqueues one run per item) until
the eval run is `succeeded` (every item run, scored from the run-finished hook, and the summary written),
polled every 50 ms. One warm-up eval of 5 items first. Target: under {TARGET_S:g} s.

{table(["eval", "wall s", "of which the POST s", "item runs", "item engine p50 ms", "item engine p95 ms"], rows)}

Median wall: **{median([r['wall'] for r in results]):.2f} s** for {args.items} items ({args.items} × 100 ms one
after another would be {args.items * 0.1:.0f} s): the {TARGET_S:g} s target is
{"met" if median([r['wall'] for r in results]) < TARGET_S else "NOT met"} in these conditions. Items run as ordinary
runs (source `eval`), created and enqueued in committed chunks of 20 so the worker starts while the rest are made,
many at once on the worker's shared loop; finished items are scored in passes (one waiting pass per eval run,
enqueued from the run-finished hook). The time goes to the runs themselves (item engine p50 above against a
100 ms model: the worker's loop is CPU-bound on a 2-core machine shared with other work, see the load average);
scoring trails the last run by well under a second.
"""
    print(body)
    if not args.no_write:
        write_section("eval_200", body)


if __name__ == "__main__":
    main()
