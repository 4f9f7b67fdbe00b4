"""500 runs waiting at approval steps at once hold no worker thread.

Real processes: a private Redis, the database at DATABASE_URL, ONE Celery worker
(threads pool, --concurrency 8), bench/fake_openai.py over HTTP. Each run is
input → draft (one model call) → approval → output. All runs are started at once;
once every one is ``waiting`` we measure what the worker holds for them: its
active tasks (celery inspect), the runs it vouches for (heartbeat keys), runs
marked running, and the worker's OS threads. Then every run is approved and
we time how long the 500 take to finish (no model call repeated: counted at the fake).

    DATABASE_URL=postgres://... python bench/waiting_runs.py --runs 500
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONCURRENCY = 8


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return -1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1.0


def main() -> None:  # noqa: PLR0915 - one scenario, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()

    from tests.faults.services import PrivateRedis, wait_until

    redis_server = PrivateRedis()
    redis_server.start()
    os.environ.update(REDIS_URL=redis_server.url(), PATCHBAY_QUEUE=f"pb-bench-wait-{os.getpid()}",
                      DJANGO_SETTINGS_MODULE="backend.config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from backend.config import celery_app
    from backend.config.redis_clients import sync_redis
    from backend.graphs.services import graph_create, workspace_for_user
    from backend.providers.models import ModelAlias
    from backend.runs.approvals import DecisionInput, decide
    from backend.runs.models import Approval, Run
    from backend.runs.services import run_create
    from backend.runs.worker_cmd import worker_argv
    from bench._common import machine, table, today, write_section
    from bench._stack import Child
    from bench.fake_openai import start_in_thread

    fake = start_in_thread()
    ModelAlias.objects.update_or_create(alias="bench-wait", defaults={
        "model": "openai/gpt-4o-mini", "api_base": fake.url, "api_key_env": "PATH", "max_retries": 0, "timeout_s": 30})
    user = get_user_model().objects.filter(username="bench-wait").first() or \
        get_user_model().objects.create_user("bench-wait", password="bench-pass-123")
    spec = {"schema": "patchbay.graph/v1", "name": "waiting", "nodes": [
        {"id": "in", "type": "input"},
        {"id": "draft", "type": "llm", "config": {"model": "bench-wait", "prompt": "Draft {{ input.n }}"}},
        {"id": "review", "type": "approval", "config": {"show": "{{ nodes.draft.output }}"}},
        {"id": "out", "type": "output", "config": {"value": "{{ nodes.review.output }}"}}],
        "edges": [{"from": "in", "to": "draft"}, {"from": "draft", "to": "review"},
                  {"from": "review", "port": "approved", "to": "out"}]}
    graph = graph_create(workspace=workspace_for_user(user), user=user, spec=spec)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "LOG_LEVEL": "WARNING"}
    hostname = f"waiter-{os.getpid()}@bench"
    worker = Child("worker", worker_argv(concurrency=CONCURRENCY, hostname=hostname, heartbeat=False,
                                         loglevel="WARNING"), env)
    try:
        wait_until(lambda: any(" ready." in line for line in worker.lines) or _pinged(celery_app, hostname), 90,
                   "worker ready")
        idle_threads = threads_of(worker.process.pid)
        fake.reset_stats()
        started = time.monotonic()
        ids = [run_create(graph=graph, user=user, input={"n": i}, fresh=True).pk for i in range(args.runs)]
        wait_until(lambda: Run.objects.filter(pk__in=ids, status="waiting").count() == len(ids), 600,
                   "all runs waiting", every=0.5)
        to_waiting = time.monotonic() - started
        time.sleep(3)  # a beat or so: anything still held would show now
        active = (celery_app.control.inspect(destination=[hostname], timeout=5).active() or {}).get(hostname, [])
        beating = sum(1 for _ in sync_redis().scan_iter("patchbay:heartbeat:*"))
        running = Run.objects.filter(pk__in=ids, status="running").count()
        waiting_threads, waiting_rss = threads_of(worker.process.pid), rss_mb(worker.process.pid)
        calls_before = fake.stats()["requests"]

        decided_at = time.monotonic()
        for approval in Approval.objects.filter(run_id__in=ids):
            decide(approval, DecisionInput("approve", via="api"), by="bench")
        wait_until(lambda: Run.objects.filter(pk__in=ids, status="succeeded").count() == len(ids), 600,
                   "all runs finished", every=0.5)
        to_finished = time.monotonic() - decided_at
        calls_after = fake.stats()["requests"]
    finally:
        worker.stop()
        fake.stop()
        redis_server.close()

    rows = [
        ["runs started at once", args.runs],
        ["worker slots (threads pool --concurrency)", CONCURRENCY],
        ["time until all were `waiting`", f"{to_waiting:.1f} s"],
        ["worker's active tasks while they wait (celery inspect)", len(active)],
        ["runs the worker vouches for (heartbeat keys)", beating],
        ["runs marked `running`", running],
        ["worker OS threads: idle → with all runs waiting", f"{idle_threads} → {waiting_threads}"],
        ["worker RSS with all runs waiting", f"{waiting_rss:.0f} MB"],
        ["model calls before the decisions / after", f"{calls_before} / {calls_after}"],
        ["time from deciding all to all `succeeded`", f"{to_finished:.1f} s"],
    ]
    body = f"""## Runs waiting for a person hold no worker (`bench/waiting_runs.py`)

{args.runs} runs of input → draft (fake model over HTTP) → approval → output, started at once on ONE worker with
{CONCURRENCY} slots; each stops at its approval step (`waiting`). While all of them wait, the worker holds none of
them: no active task, no heartbeat, no `running` row. Then every run is approved (the service the API calls) and
resumes from its stored state on the same worker; the model is not called again. The worker's OS threads grow
once, when it takes its first tasks (its fixed pool of slots, the run loop, the heartbeat thread and the database
thread pool), not per run: 500 waiting runs hold none of them.

Conditions: {machine()}; {today()}.

{table(["measure", "value"], rows)}
"""
    print(body)
    write_section("waiting_runs", body)


def _pinged(app: object, hostname: str) -> bool:
    try:
        return bool(app.control.ping(destination=[hostname], timeout=1))  # type: ignore[attr-defined]
    except Exception:
        return False


if __name__ == "__main__":
    main()
