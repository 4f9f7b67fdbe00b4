"""A published endpoint under load: throughput and latency of sync calls at 1, 8 and 64 concurrent clients.

Starts what production runs: Daphne (``backend.config.asgi``) serving ``POST /api/v1/flows/<slug>/run``, one
Celery worker (threads pool, 64 threads) on Redis, PostgreSQL, and litellm calling ``bench/fake_openai.py``
over HTTP with 100 ms of model latency. The flow is input → one llm node → output; every call is a sync call
(the server waits for the run and answers with its output) with a Bearer API key, and a distinct input so
nothing comes from the cache. A call fails if it is not a 200 with ``status: succeeded``.

    .venv/bin/python bench/endpoint_throughput.py [--per-client 20] [--levels 1,8,64] [--no-write]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at 127.0.0.1:6379; override with
BENCH_DATABASE_URL / BENCH_REDIS_URL (defaults: database ``pb_endpoints_bench``, Redis db 11). The database
is created and migrated if missing. Results replace this script's section of bench/results.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import bench_workspace, machine, median, p95, table, today, write_section  # noqa: E402
from bench._stack import Child, require_alive, stack_env, start_web, start_worker  # noqa: E402
from bench._stack import ensure_database as create_database  # noqa: E402
from bench.fake_openai import FakeConfig, FakeServer, start_in_thread  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_endpoints_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
QUEUE = f"patchbay-bench-endpoints-{os.getpid()}"
WORKER_CONCURRENCY = 64
SLUG = "bench-answer"
OUT = ROOT / "bench" / "out"  # git-ignored: logs of the last run


def log(message: str) -> None:
    print(f"[endpoint_throughput {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def ensure_database() -> None:
    create_database(DATABASE_URL, log)


def child_env(data_dir: str) -> dict[str, str]:
    return stack_env(DATABASE_URL, REDIS_URL, QUEUE, data_dir)


# --------------------------------------------------------------------------- fixtures (ORM, in this process)


def setup_fixtures(model_url: str) -> str:
    """A user, a model alias on the fake server, a one-call graph published as an endpoint, and a key without
    a rate limit. Returns the whole key."""
    import django

    django.setup()
    from django.db import connections

    from backend.endpoints.services import api_key_create, endpoint_create
    from backend.graphs.services import graph_create

    user, workspace = bench_workspace("bench-endpoints", model_url)
    spec = {
        "schema": "patchbay.graph/v1", "name": "bench answer",
        "inputs": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "answer", "type": "llm", "config": {"model": "bench100", "prompt": "Answer: {{ input.text }}",
                                                             "params": {"temperature": 0.7}}},
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.answer.output }}"}}],
        "edges": [{"from": "in", "to": "answer"}, {"from": "answer", "to": "out"}],
    }
    graph = graph_create(workspace=workspace, user=user, spec=spec, message="bench")
    endpoint_create(user=user, graph=graph, slug=SLUG)
    _, key = api_key_create(user=user, workspace=workspace, name="bench", rate_limit_per_minute=None)
    connections.close_all()
    return key


# --------------------------------------------------------------------------- load


class CpuMeter:
    """CPU seconds used by Daphne, the worker and this process (load generator + fake model), and how busy the
    whole machine was, between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int]):
        import psutil

        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.processes["bench process"] = psutil.Process()

    def _sample(self) -> tuple[dict[str, float], Any]:
        import psutil

        used = {}
        for name, process in self.processes.items():
            times = process.cpu_times()
            used[name] = times.user + times.system
        return used, psutil.cpu_times()

    def start(self) -> None:
        self._before = self._sample()

    def stop(self) -> dict[str, float]:
        (before, machine_before), (after, machine_after) = self._before, self._sample()
        busy = sum(getattr(machine_after, f) - getattr(machine_before, f) for f in ("user", "system", "nice", "irq",
                                                                                   "softirq", "steal"))
        total = busy + (machine_after.idle - machine_before.idle) + (machine_after.iowait - machine_before.iowait)
        return {**{name: after[name] - before[name] for name in after}, "machine busy": busy / total if total else 0}


async def level(http_url: str, key: str, clients: int, per_client: int, tag: str,
                meter: CpuMeter | None = None) -> dict[str, Any]:
    """``clients`` concurrent clients, each making ``per_client`` sync calls back to back."""
    import httpx

    samples: list[float] = []
    server_ms: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=http_url, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 limits=limits) as client:

        async def one_client(index: int) -> None:
            for n in range(per_client):
                body = {"input": {"text": f"{tag} client {index} call {n}"}}
                started = time.perf_counter()
                try:
                    response = await client.post(f"/api/v1/flows/{SLUG}/run", json=body)
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                result = response.json() if response.headers.get("content-type", "").startswith(
                    "application/json") else {}
                if response.status_code != 200 or result.get("status") != "succeeded":
                    failures.append(f"{response.status_code} {result.get('status')} {result.get('error')}")
                    continue
                samples.append(elapsed)
                server_ms.append(result["latency_ms"])

        if meter:
            meter.start()
        wall_started = time.perf_counter()
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        wall = time.perf_counter() - wall_started
        cpu = meter.stop() if meter else {}
    return {"clients": clients, "requests": clients * per_client, "ok": len(samples), "failures": failures,
            "wall": wall, "samples": samples, "server_ms": server_ms, "cpu": cpu}


def report(args: argparse.Namespace, results: list[dict[str, Any]], setup_s: float, total_s: float,
           fake: FakeServer) -> str:
    rows = []
    for r in results:
        s = r["samples"]
        rows.append([r["clients"], r["requests"], r["ok"], len(r["failures"]), f"{r['ok'] / r['wall']:.1f}",
                     f"{median(s) * 1000:.0f}" if s else "n/a", f"{p95(s) * 1000:.0f}" if s else "n/a",
                     f"{max(s) * 1000:.0f}" if s else "n/a",
                     f"{median(r['server_ms']):.0f}" if s else "n/a", f"{r['wall']:.1f}"])
    cpu_rows = []
    for r in results:
        cpu, calls = r["cpu"], max(1, r["ok"])
        cpu_rows.append([r["clients"], *(f"{cpu[name] / r['wall']:.2f} / {cpu[name] / calls * 1000:.1f}"
                                         for name in ("daphne", "celery worker", "bench process")),
                         f"{cpu['machine busy'] * 100:.0f} %"])
    top = results[-1]
    failures = "; ".join(sorted(set(top["failures"]))[:5]) or "none"
    return f"""## Published endpoint: sync calls under load (`bench/endpoint_throughput.py`)

What a caller of a published flow sees: `POST /api/v1/flows/{SLUG}/run` with `Authorization: Bearer <key>`
and `{{"input": {{"text": ...}}}}` in sync mode (the server holds the request until the run finishes and answers
with its output, usage and latency). Flow: input → one llm node → output; the model alias points at
`bench/fake_openai.py` over HTTP through litellm with {args.latency_ms:g} ms of latency per call; each call has a
distinct input (temperature 0.7), so nothing comes from the cache. Each client makes {args.per_client} calls back
to back (at least {args.min_requests} calls per level); a call counts as failed unless it is a 200 with
`status: succeeded`.

Stack, all on this machine: Daphne (one process, `backend.config.asgi`; the flow view is async and waits on the
run's channel-layer group), one Celery worker (`--pool threads --concurrency {WORKER_CONCURRENCY}`), PostgreSQL
(`pb_endpoints_bench`), Redis (broker, channel layer, rate limiter; db {urlparse(REDIS_URL).path.lstrip('/') or 0}).
The load generator (httpx, asyncio) and the fake model run in the bench process on the same 2 cores.

Conditions: {machine()}; {today()}; start-up and warm-up {setup_s:.1f} s; whole script {total_s:.1f} s; model
requests served by the fake provider: {fake.stats()['requests']}, at most {fake.stats()['max_in_flight']} at once.
Machine busy for 3 s before the first level, with this stack idle (other work sharing the 2 cores):
{args.background * 100:.0f} %.

{table(["clients", "calls", "ok", "failed", "throughput (calls/s)", "p50 ms", "p95 ms", "max ms",
        "server p50 ms (accepted → finished)", "wall s"], rows)}

Failed calls at {top['clients']} clients: {len(top['failures'])} ({failures}). Client latency is the whole HTTP
call; "server" is the run's own `latency_ms` (row created → run finished), so the difference is HTTP, auth,
validation, the rate-limit check, waiting for a turn and delivering the answer. The floor is the
{args.latency_ms:g} ms model call.

Where the CPU went during each level (cores used on average / CPU milliseconds per successful call; the bench
process is the load generator plus the fake model; PostgreSQL and Redis are the rest of "machine busy"):

{table(["clients", "Daphne", "Celery worker", "bench process", "machine busy (2 cores)"], cpu_rows)}
"""


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,64", help="concurrent clients per level, comma-separated")
    parser.add_argument("--per-client", type=int, default=20, help="sync calls each client makes")
    parser.add_argument("--min-requests", type=int, default=100, help="at least this many calls per level")
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only; leave results.md alone")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    script_started = time.perf_counter()
    data_dir = tempfile.mkdtemp(prefix="patchbay-bench-endpoints-")
    env = child_env(data_dir)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "PATCHBAY_QUEUE", "PATCHBAY_DATA_DIR",
                                           "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL")})
    children: list[Child] = []
    fake: FakeServer | None = None
    try:
        ensure_database()
        log("migrating")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        fake = start_in_thread(FakeConfig(latency_ms=args.latency_ms))
        key = setup_fixtures(fake.url)

        setup_started = time.perf_counter()
        children.append(start_worker(env, f"bench-endpoints-{os.getpid()}@{socket.gethostname()}",
                                     WORKER_CONCURRENCY))
        server, port = start_web(env)
        children.append(server)
        http_url = f"http://127.0.0.1:{port}"

        log(f"warm-up: {args.warmup} calls (the first one waits for the worker)")
        warm = asyncio.run(level(http_url, key, 1, args.warmup, "warm-up"))
        if warm["failures"]:
            raise RuntimeError(f"warm-up calls failed: {warm['failures'][:3]}")
        setup_s = time.perf_counter() - setup_started

        idle = CpuMeter({"daphne": children[1].process.pid, "celery worker": children[0].process.pid})
        idle.start()
        time.sleep(3)
        args.background = idle.stop()["machine busy"]  # other work on the machine, with this stack idle
        results = []
        for clients in levels:
            per_client = max(args.per_client, -(-args.min_requests // clients))
            log(f"{clients} clients × {per_client} sync calls")
            meter = CpuMeter({"daphne": children[1].process.pid, "celery worker": children[0].process.pid})
            result = asyncio.run(level(http_url, key, clients, per_client, f"c{clients}", meter))
            s = result["samples"]
            log(f"  {result['ok']}/{result['requests']} ok, {result['ok'] / result['wall']:.1f} calls/s, "
                f"p50 {median(s) * 1000:.0f} ms, p95 {p95(s) * 1000:.0f} ms" if s else "  no successful call")
            results.append(result)
        require_alive(children)
        body = report(args, results, setup_s, time.perf_counter() - script_started, fake)
        print(body)
        if not args.no_write:
            write_section("endpoint_throughput", body)
    except BaseException:
        for child in children:
            print(f"--- last output of {child.name} ---\n{child.tail()}", file=sys.stderr)
        raise
    finally:
        for child in reversed(children):
            child.stop()
        OUT.mkdir(exist_ok=True)
        for child in children:
            (OUT / f"endpoint_throughput-{child.name.replace(' ', '-')}.log").write_text("\n".join(child.lines) + "\n")
        if fake is not None:
            fake.stop()
        try:
            import redis

            redis.Redis.from_url(REDIS_URL).delete(QUEUE, f"_kombu.binding.{QUEUE}")
        except Exception as exc:  # cleanup is best effort; the queue name is unique anyway
            log(f"could not delete the bench queue from Redis: {exc}")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
