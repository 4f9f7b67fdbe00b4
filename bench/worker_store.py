"""The worker's database and Redis work per run, before and after, in one session (issue 16).

Runs N chain3 runs of a published endpoint (input → 3 llm steps → output, ``bench/fake_openai.py`` at
``--latency-ms`` per call, through litellm) through the worker's own code path: the runs are created as a flow
call creates them (``flow_call_start``, with the enqueue left out), then handed ``--concurrency`` at a time to
``execute_run_async`` on the worker's shared run loop, in a child process per code tree. No web server, no
Celery: what is measured is the worker's part of a run, everything but the HTTP in front of it.

Each child runs its runs three times: a warm-up, a **counted** pass (every SQL statement, transaction and Redis
command attributed to the function of ``backend/runs`` that made it), and a **timed** pass with nothing
installed (CPU time of the whole process per run, and of the database threads per ``db_call`` function). Trees
alternate ``--rounds`` times; a table per tree is printed and, with ``--write``, kept in bench/results.md.

    .venv/bin/python bench/worker_store.py --before /tmp/store-base [--runs 60] [--rounds 2] [--write [--section S]]

Needs PostgreSQL and Redis (BENCH_DATABASE_URL / BENCH_REDIS_URL); the database is created and migrated.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# bench/ is this script's directory, first on the path in the parent and in every tree's child process alike.
from _trees import create_runs, gil_profiler, prepare, tree_env, tree_parser, trees

ROOT = Path(__file__).resolve().parents[1]

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_worker_store_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
AREAS = {  # the function of backend/runs nearest the statement (or Redis command) → what it is part of
    "claim": "claim", "request_id_of": "claim", "cancel_requested": "cancel check", "is_cancelled": "cancel check",
    "persist_events": "sink batch", "_publish": "sink publish", "store_run_end": "run end",
    "finish_run": "run end", "notify_finished": "run-finished hook", "announce_end": "run-end publish",
    "beat_once": "heartbeat", "claim_and_start": "claim",
}


def log(message: str) -> None:
    print(f"[worker_store {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the child: one code tree


def _area() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_name
        if "backend/runs/" in frame.f_code.co_filename or "backend/endpoints/" in frame.f_code.co_filename:
            if name in AREAS:
                return AREAS[name]
        frame = frame.f_back  # type: ignore[assignment]
    return "other"


class Counting:
    """SQL statements, transactions and Redis commands, by area, while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.statements: Counter[str] = Counter()
        self.transactions: Counter[str] = Counter()
        self.redis: Counter[str] = Counter()

    def install(self) -> None:
        import redis.asyncio.connection
        import redis.connection
        from django.db.backends.base.base import BaseDatabaseWrapper
        from django.db.backends.signals import connection_created

        counting = self

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            if counting.on:
                area = _area()
                counting.statements[area] += 1
                if not context["connection"].in_atomic_block:  # autocommit: the statement is its transaction
                    counting.transactions[area] += 1
            return execute(sql, params, many, context)

        def add_wrapper(sender: Any, connection: Any, **_: Any) -> None:
            connection.execute_wrappers.append(wrapper)

        connection_created.connect(add_wrapper, weak=False)
        commit = BaseDatabaseWrapper.commit

        def counted_commit(self: Any) -> None:
            if counting.on:
                counting.transactions[_area()] += 1
            commit(self)

        BaseDatabaseWrapper.commit = counted_commit  # type: ignore[method-assign]
        for module in (redis.connection, redis.asyncio.connection):
            for cls_name in ("Connection", "AbstractConnection"):
                cls = getattr(module, cls_name, None)
                if cls is None or "pack_command" not in cls.__dict__:
                    continue
                pack = cls.pack_command

                def counted_pack(self: Any, *args: Any, _pack: Any = pack) -> Any:
                    if counting.on:
                        counting.redis[_area()] += 1
                    return _pack(self, *args)

                cls.pack_command = counted_pack


class DbThreadCpu:
    """CPU seconds spent in each ``db_call`` function on the loop's database threads."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def install(self) -> None:
        import functools

        from backend.runs import loop

        recovering = loop.recovering
        spent = self.seconds

        def timed(fn: Any) -> Any:
            inner = recovering(fn)

            @functools.wraps(fn)
            def call(*args: Any, **kwargs: Any) -> Any:
                start = time.thread_time()
                try:
                    return inner(*args, **kwargs)
                finally:
                    spent[fn.__name__] += time.thread_time() - start

            return call

        loop.recovering = timed  # type: ignore[assignment]


def _fixtures(model_url: str, queue: str) -> tuple[Any, Any, Any]:
    from backend.endpoints.services import api_key_create, endpoint_create
    from backend.graphs.services import graph_create
    from backend.runs.models import Run
    from bench._common import bench_workspace
    from bench.published_path import flow_spec

    user, workspace = bench_workspace(f"bench-store-{queue}", model_url)
    graph = graph_create(workspace=workspace, user=user, spec=flow_spec("chain3"), message="bench")
    endpoint = endpoint_create(user=user, graph=graph, slug=f"bench-store-{queue}".replace("_", "-"))
    key, _ = api_key_create(user=user, workspace=workspace, name="bench", rate_limit_per_minute=None)
    return endpoint, key, Run




def _execute_all(ids: list[str], concurrency: int) -> None:
    import asyncio

    from backend.runs.execution import execute_run_async
    from backend.runs.loop import run_on_loop

    async def everything() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(run_id: str) -> None:
            async with gate:
                await execute_run_async(run_id)

        await asyncio.gather(*(one(r) for r in ids))

    run_on_loop(everything())


def _xacts() -> int:
    import psycopg

    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        time.sleep(1.2)  # statistics reach pg_stat_database when backends report them (about once a second)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = "
                           "current_database()").fetchone()
    return int(row[0]) if row else 0


def _postgres_cpu_s() -> float:
    """CPU seconds so far of the PostgreSQL backends serving the bench database (from their /proc stat).

    The worker keeps its connections (CONN_MAX_AGE), so the backends that serve a pass live through it; one that
    exited during it would be missed (none does here: the same backends serve the warm-up and both passes).
    """
    name = f" {DATABASE_URL.rsplit('/', 1)[-1].split('?')[0]} ".encode()
    ticks = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes()
            if not command.startswith(b"postgres: ") or name not in command:
                continue
            fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime (stat fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def _profiler(path: str) -> subprocess.Popen[bytes] | None:
    """py-spy on this process (the thread holding the GIL) for the timed pass, when asked; its CPU is its own."""
    return gil_profiler(os.getpid(), path) if path else None


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.code).resolve()))
    sys.path.insert(1, str(ROOT))  # `bench`, for flow_spec
    import django

    counting = Counting()
    django.setup()
    counting.install()
    cpu = DbThreadCpu()
    cpu.install()
    from django.db import connections

    from backend.runs.models import Run

    endpoint, key, _ = _fixtures(args.model_url, os.environ["PATCHBAY_QUEUE"])
    n = args.runs
    warm, counted, timed = (create_runs(endpoint, key, n, t) for t in ("warm", "count", "time"))
    connections.close_all()
    _execute_all(warm, args.concurrency)

    before = _xacts()
    counting.on = True
    _execute_all(counted, args.concurrency)
    counting.on = False
    xacts = _xacts() - before - 1  # the reading's own transaction

    cpu.seconds.clear()
    spy = _profiler(args.profile)
    start, pg_start = time.process_time(), _postgres_cpu_s()
    _execute_all(timed, args.concurrency)
    cpu_s, pg_s = time.process_time() - start, _postgres_cpu_s() - pg_start
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait()
    statuses = Counter(Run.objects.filter(pk__in=counted + timed).values_list("status", flat=True))
    print(json.dumps({
        "statements": dict(counting.statements), "transactions": dict(counting.transactions),
        "redis": dict(counting.redis), "pg_xacts": xacts, "cpu_ms_per_run": 1000 * cpu_s / n,
        "pg_ms_per_run": 1000 * pg_s / n,
        "db_thread_ms_per_run": {k: 1000 * v / n for k, v in cpu.seconds.items()}, "statuses": dict(statuses),
    }))


# --------------------------------------------------------------------------- the parent


def _env(code: Path, queue: str) -> dict[str, str]:
    return tree_env(code, queue=queue, database_url=DATABASE_URL, redis_url=REDIS_URL,
                    data_dir="/tmp/pb-worker-store-data")


def run_tree(tag: str, code: Path, args: argparse.Namespace, model_url: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--code", str(code),
                          "--model-url", model_url, "--runs", str(args.runs), "--concurrency", str(args.concurrency),
                          "--profile", f"{args.profile}.{tag}" if args.profile else ""],
                         cwd=code, env=_env(code, f"q_bench_store_{tag}"), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tag}: child failed:\n{out.stderr[:3000]}\n…\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# Frames whose samples make the "where the worker's Python time goes" line (inclusive: a sample counts for each).
PROFILE_FRAMES = {"model calls (litellm, providers/)": "LiteLLMGateway.complete", "database threads": "recovering",
                  "sink batches (persist_events)": "persist_events", "claim": "claim",
                  "run-finished hook": "notify_finished", "channel-layer publish": "RunEventSink._publish",
                  "cancel checks": "is_cancelled", "heartbeat": "beat_once"}


def profile_shares(path: str, n: int) -> str:
    """GIL samples (200 Hz) per run and the share of each of PROFILE_FRAMES, from a py-spy raw file."""
    total, hits = 0, Counter[str]()
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = {f.split(" (")[0] for f in stack.split(";")}
        total += int(count)
        for label, frame in PROFILE_FRAMES.items():
            if any(f == frame or f.startswith(frame + ".") for f in frames):
                hits[label] += int(count)
    shares = ", ".join(f"{label} {100 * hits[label] / max(total, 1):.0f} %" for label in PROFILE_FRAMES)
    return f"{1000 * total / 200 / n:.1f} ms of GIL-holding samples per run; {shares}"


def _fmt(counter: dict[str, float], n: int, digits: int = 1) -> str:
    items = sorted(counter.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v / n:.{digits}f}" for k, v in items if v)


def report(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    from bench._common import machine, median, table, today

    n = args.runs
    rows, details = [], []
    for tag, rounds in results.items():
        cpu = [r["cpu_ms_per_run"] for r in rounds]
        pg = [r.get("pg_ms_per_run", 0.0) for r in rounds]
        last = rounds[-1]
        db_ms = sum(last["db_thread_ms_per_run"].values())
        rows.append([tag, len(rounds), " / ".join(f"{c:.1f}" for c in cpu), f"{median(cpu):.1f}", f"{db_ms:.1f}",
                     " / ".join(f"{p:.1f}" for p in pg),
                     f"{sum(last['statements'].values()) / n:.1f}", f"{sum(last['transactions'].values()) / n:.1f}",
                     f"{last['pg_xacts'] / n:.1f}", f"{sum(last['redis'].values()) / n:.1f}"])
        details.append(f"- **{tag}** — statements/run: {_fmt(last['statements'], n)}; transactions/run: "
                       f"{_fmt(last['transactions'], n)}; Redis commands/run: {_fmt(last['redis'], n)}; "
                       f"database-thread CPU ms/run: {_fmt(last['db_thread_ms_per_run'], 1, 2)}; "
                       f"statuses: {last['statuses']}")
        if args.profile and Path(f"{args.profile}.{tag}").exists():
            details.append(f"  py-spy (`--gil`, 200 Hz, last round's timed pass): "
                           f"{profile_shares(f'{args.profile}.{tag}', n)}")
    return "\n".join([
        "## The worker's database and Redis work per run (`bench/worker_store.py`, issue 16)",
        "",
        f"{n} chain3 runs of a published endpoint per pass (3 llm steps, `bench/fake_openai.py` at "
        f"{args.latency_ms:g} ms per call through litellm), {args.concurrency} at a time on the worker's run loop, "
        "created as a flow call creates them; no web server or Celery. CPU: the whole worker process per run "
        "(timed pass, nothing installed), and of the PostgreSQL backends serving it (their /proc CPU over the "
        "timed pass); counts: the counted pass (statements and transactions seen by Django, "
        "transactions also from `pg_stat_database`, Redis commands packed by redis-py), attributed to the "
        "`backend/runs` function that made them. Trees alternate, one child process per pass.",
        "",
        f"Conditions: {machine()}; {today()} (the machine is shared with other sessions: CPU numbers are upper "
        "bounds, compare within a row set).",
        "",
        table(["tree", "rounds", "worker CPU ms/run (each round)", "median", "of it DB threads ms/run",
               "PostgreSQL backends CPU ms/run (each round)",
               "SQL statements/run", "transactions/run (Django)", "transactions/run (pg_stat_database)",
               "Redis commands/run"], rows),
        "",
        *details,
    ])


def main() -> None:
    parser = tree_parser(__doc__, rounds=2, latency_ms=50.0)
    parser.add_argument("--section", default="worker_store", help="the bench/results.md section --write fills")
    parser.add_argument("--json", default="", help="also keep every round's raw numbers in this file")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sys.path.insert(0, str(ROOT))
    from bench._common import write_section

    _fake, model_url = prepare(DATABASE_URL, _env(ROOT, "q_bench_store"), args.latency_ms, log)
    tree_list = trees(args.before)
    results: dict[str, list[dict[str, Any]]] = {tag: [] for tag, _ in tree_list}
    for round_no in range(args.rounds):
        for tag, code in tree_list:
            log(f"round {round_no + 1}: {tag}")
            results[tag].append(run_tree(tag, code, args, model_url))
    body = report(results, args)
    print(body)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.write:
        write_section(args.section, body)


if __name__ == "__main__":
    main()
