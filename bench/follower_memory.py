"""Memory of the web and worker processes under sync endpoint calls: RSS after 200 and after 2,000 calls.

Every sync call holds a run follower (backend/runs/follow.py) in Daphne while its run goes; a follower that
leaves something behind (a channel-layer subscription, a parked receive buffer, a task) makes the web process
grow with the number of calls. This drives 64 concurrent clients through the same stack as
``bench/endpoint_throughput.py`` (Daphne, one Celery worker with 64 threads, PostgreSQL, Redis, litellm to
``bench/fake_openai.py`` over HTTP, short model latency) and reads both processes' RSS (psutil) after 200 calls
and after 2,000. The promise (issue 8): within 10 % growth from 200 to 2,000.

    .venv/bin/python bench/follower_memory.py [--calls 200,2000] [--clients 64] [--latency-ms 20] [--no-write]

Defaults: database ``pb_follower_memory_bench`` (created and migrated if missing), Redis db 12; override with
BENCH_DATABASE_URL / BENCH_REDIS_URL. Results replace this script's section of bench/results.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_follower_memory_bench")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

from bench import endpoint_throughput as load  # noqa: E402
from bench._common import machine, table, today, write_section  # noqa: E402
from bench._stack import Child, require_alive, start_web, start_worker  # noqa: E402
from bench.fake_openai import FakeConfig, FakeServer, start_in_thread  # noqa: E402

MIB = 1024 * 1024


def log(message: str) -> None:
    print(f"[follower_memory {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_mib(pid: int, samples: int = 5) -> float:
    """The process's resident memory, the median of a few readings over half a second (after the load)."""
    import psutil

    process = psutil.Process(pid)
    readings = []
    for _ in range(samples):
        readings.append(process.memory_info().rss / MIB)
        time.sleep(0.1)
    return statistics.median(readings)


def report(args: argparse.Namespace, marks: list[dict[str, Any]], setup_s: float, total_s: float,
           fake: FakeServer) -> str:
    first, last = marks[0], marks[-1]
    rows = [[m["calls"], m["failed"], f"{m['daphne']:.1f}", f"{m['worker']:.1f}", f"{m['rate']:.1f}"] for m in marks]
    growth = {name: (last[name] / first[name] - 1) * 100 for name in ("daphne", "worker")}
    verdict = ", ".join(f"{name} {'within' if g <= 10 else 'OVER'} 10 % ({g:+.1f} %)" for name, g in growth.items())
    return f"""## Memory under sync endpoint calls: RSS after 200 and 2,000 calls (`bench/follower_memory.py`)

{args.clients} concurrent clients make sync calls (`POST /api/v1/flows/<slug>/run`, each waits for its run's
result through a run follower in Daphne) to a flow input → one llm node → output; the model is
`bench/fake_openai.py` over HTTP through litellm with {args.latency_ms:g} ms of latency, every input distinct.
Stack: Daphne (one process), one Celery worker (threads pool, {load.WORKER_CONCURRENCY} threads), PostgreSQL,
Redis. RSS (psutil) is the median of 5 readings over 0.5 s right after the given number of calls in total
(warm-up of {args.warmup} calls not counted). One run; {machine()}; {today()}; start-up {setup_s:.1f} s; whole
script {total_s:.1f} s; model requests served: {fake.stats()['requests']}.

{table(["calls so far", "failed", "Daphne RSS MiB", "worker RSS MiB", "calls/s in the stretch"], rows)}

Growth from {first['calls']} to {last['calls']} calls: Daphne {growth['daphne']:+.1f} %, worker
{growth['worker']:+.1f} % ({verdict}).

Why it used to grow: before issue 8 the issue's measurement grew Daphne 135 → 157 MiB from 200 to 2,000 calls.
channels_redis parks every message for a process-local channel in `receive_buffer[channel]`; a message that
reaches a follower's channel after the follower stopped receiving (the run's group still had it, or the message
was in flight) is parked for good. `RedisFollowLayer.release` (backend/runs/channel_layer.py) drops a finished
follower's buffer and any late arrival for it. Checked on 2026-11-28 with this script: the same run with
`release` made a no-op grew Daphne 131.6 → 158.3 MiB (+20 %) from 256 to 2,048 calls (worker 403.7 → 404.9);
with it, see the table.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="200,2000", help="RSS is read after this many calls in total")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only; leave results.md alone")
    args = parser.parse_args()
    checkpoints = [int(n) for n in args.calls.split(",")]

    script_started = time.perf_counter()
    data_dir = tempfile.mkdtemp(prefix="patchbay-bench-memory-")
    env = load.child_env(data_dir)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "PATCHBAY_QUEUE", "PATCHBAY_DATA_DIR",
                                           "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL")})
    children: list[Child] = []
    fake: FakeServer | None = None
    try:
        load.ensure_database()
        log("migrating")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        fake = start_in_thread(FakeConfig(latency_ms=args.latency_ms))
        key = load.setup_fixtures(fake.url)
        setup_started = time.perf_counter()
        children.append(start_worker(env, f"bench-memory-{os.getpid()}@{socket.gethostname()}",
                                     load.WORKER_CONCURRENCY))
        server, port = start_web(env)
        children.append(server)
        http_url = f"http://127.0.0.1:{port}"
        warm = asyncio.run(load.level(http_url, key, 1, args.warmup, "warm-up"))
        if warm["failures"]:
            raise RuntimeError(f"warm-up calls failed: {warm['failures'][:3]}")
        setup_s = time.perf_counter() - setup_started

        marks, done = [], 0
        for checkpoint in checkpoints:
            per_client = max(1, -(-(checkpoint - done) // args.clients))
            log(f"{args.clients} clients × {per_client} calls (to {done + args.clients * per_client} in total)")
            result = asyncio.run(load.level(http_url, key, args.clients, per_client, f"m{checkpoint}"))
            done += result["requests"]
            marks.append({"calls": done, "failed": len(result["failures"]), "rate": result["ok"] / result["wall"],
                          "daphne": rss_mib(server.process.pid), "worker": rss_mib(children[0].process.pid)})
            log(f"  {marks[-1]}")
        require_alive(children)
        body = report(args, marks, setup_s, time.perf_counter() - script_started, fake)
        print(body)
        if not args.no_write:
            write_section("follower_memory", body)
    except BaseException:
        for child in children:
            print(f"--- last output of {child.name} ---\n{child.tail()}", file=sys.stderr)
        raise
    finally:
        for child in reversed(children):
            child.stop()
        if fake is not None:
            fake.stop()
        try:
            import redis

            redis.Redis.from_url(load.REDIS_URL).delete(load.QUEUE, f"_kombu.binding.{load.QUEUE}")
        except Exception as exc:
            log(f"could not delete the bench queue from Redis: {exc}")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
