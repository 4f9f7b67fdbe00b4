"""Time to detect a dead worker: SIGKILL the worker holding a run, time until the run ends failed.

Real processes on a private Redis and the bench database: two Celery workers
(the run lands on one, the other sweeps), a run on a 60 s fake model, then
SIGKILL. Default heartbeat settings (PATCHBAY_HEARTBEAT_SECONDS=2). Prints the
median of a few trials.

    DATABASE_URL=postgres://... python bench/dead_worker.py --trials 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()

    from tests.faults.services import PrivateRedis, wait_until

    redis = PrivateRedis()
    redis.start()
    os.environ.update(REDIS_URL=redis.url(), PATCHBAY_QUEUE=f"pb-bench-dead-{os.getpid()}",
                      DJANGO_SETTINGS_MODULE="backend.config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from backend.graphs.services import graph_create, workspace_for_user
    from backend.providers.models import ModelAlias
    from backend.runs.models import Run
    from backend.runs.services import run_create
    from backend.runs.worker_cmd import worker_argv
    from bench._stack import Child
    from bench.fake_openai import start_in_thread

    fake = start_in_thread()
    fake.configure(latency_ms=60000)
    ModelAlias.objects.update_or_create(alias="bench-glacial", defaults={
        "model": "openai/gpt-4o-mini", "api_base": fake.url, "api_key_env": "PATH", "max_retries": 0,
        "timeout_s": 120})
    user = get_user_model().objects.filter(username="bench-dead").first() or \
        get_user_model().objects.create_user("bench-dead", password="bench-pass-123")
    spec = {"schema": "patchbay.graph/v1", "name": "dead-worker", "nodes": [
        {"id": "in", "type": "input"}, {"id": "ask", "type": "llm", "config": {"model": "bench-glacial", "prompt": "x"}},
        {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}
    graph = graph_create(workspace=workspace_for_user(user), user=user, spec=spec)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "LOG_LEVEL": "WARNING"}

    def worker(name: str) -> Child:
        child = Child(name, worker_argv(concurrency=4, hostname=f"{name}-{os.getpid()}@%h", heartbeat=False), env)
        wait_until(lambda: any(" ready." in line for line in child.lines), 90, f"{name} ready")
        return child

    sweeper = worker("sweeper")
    times = []
    try:
        for trial in range(args.trials):
            doomed = worker(f"doomed{trial}")
            sweeper.stop()  # only the doomed worker consumes, so the run lands there
            run = run_create(graph=graph, user=user, input={"t": trial})
            wait_until(lambda r=run: Run.objects.get(pk=r.pk).status == "running", 30, "run starts")
            time.sleep(1.0)
            sweeper = worker("sweeper")
            doomed.process.kill()
            killed = time.monotonic()
            wait_until(lambda r=run: Run.objects.get(pk=r.pk).status == "failed", 60, "run failed", every=0.05)
            times.append(time.monotonic() - killed)
            print(f"trial {trial + 1}: {times[-1]:.1f} s  ({Run.objects.get(pk=run.pk).error[:60]}...)")
    finally:
        sweeper.stop()
        fake.stop()
        redis.close()
    print(f"time to detect a SIGKILLed worker: median {statistics.median(times):.1f} s, "
          f"min {min(times):.1f} s, max {max(times):.1f} s over {len(times)} trials")


if __name__ == "__main__":
    main()
