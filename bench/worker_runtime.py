"""The worker's own CPU per run through a real Celery worker, before and after, in one session (issue 16).

``bench/worker_store.py`` drives ``execute_run_async`` on the run loop directly; this one puts the Celery task in
front of it, as production does: a real worker process (``runs/worker_cmd.worker_argv``: threads pool, 64
threads, no gossip or mingle) takes chain3 runs of a published endpoint (input → 3 llm steps → output,
``bench/fake_openai.py`` at ``--latency-ms`` per call, through litellm) from its queue. The runs are created and
enqueued as a sync flow call does it, ``--concurrency`` in flight at a time. What is measured is
the worker process's CPU (user + system, from /proc) over the timed pass, divided by the runs; a warm-up pass of
the same size comes first. With ``--profile``, py-spy samples every busy thread of the worker in one extra pass
and the GIL-holding samples are split into litellm, database threads, the sink, the engine, Celery and the run loop.

    .venv/bin/python bench/worker_runtime.py --before /tmp/runtime-base [--runs 60] [--rounds 3] [--write]

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
from _trees import gil_profiler, prepare, profile_shares, tree_env, tree_parser, trees

ROOT = Path(__file__).resolve().parents[1]

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_worker_runtime_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[worker_runtime {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def process_cpu_s(pid: int) -> float:
    """User + system seconds of every thread of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# --------------------------------------------------------------------------- the driver: one code tree


def _fixtures(model_url: str, queue: str) -> tuple[Any, Any]:
    from backend.endpoints.services import api_key_create, endpoint_create
    from backend.graphs.services import graph_create
    from bench._common import bench_workspace
    from bench.published_path import flow_spec

    user, workspace = bench_workspace(f"bench-runtime-{queue}", model_url)
    graph = graph_create(workspace=workspace, user=user, spec=flow_spec("chain3"), message="bench")
    endpoint = endpoint_create(user=user, graph=graph, slug=f"bench-runtime-{queue}".replace("_", "-"))
    key, _ = api_key_create(user=user, workspace=workspace, name="bench", rate_limit_per_minute=None)
    return endpoint, key


def _drive(endpoint: Any, key: Any, n: int, tag: str, concurrency: int, timeout_s: float = 300.0) -> list[str]:
    """``n`` runs as a sync flow call creates and enqueues them, ``concurrency`` unfinished at a time; returns
    their ids when all have ended. Each run is created only when it is sent: a queued run the worker has not been
    sent would be enqueued by its sweep (liveness.requeue_lost_runs) and run outside the pass."""
    from backend.endpoints.calls import Call
    from backend.endpoints.services import flow_call_start
    from backend.runs.models import Run

    ended = {Run.Status.SUCCEEDED, Run.Status.FAILED, Run.Status.CANCELLED}
    ids: list[str] = []
    in_flight: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while len(ids) < n or in_flight:
        while len(ids) < n and len(in_flight) < concurrency:
            i = len(ids)
            call = Call(input={"text": f"{tag} {i} {time.time_ns()}"}, mode="sync", budget=None, callback_url=None,
                        timeout_s=None, request_hash=f"{tag}{i}")
            started = flow_call_start(key=key, endpoint=endpoint, call=call, request_id=f"req-{tag}-{i}",
                                      idempotency_key=None)
            ids.append(str(started.run.pk))
            in_flight.add(ids[-1])
        time.sleep(0.01)
        done = Run.objects.filter(pk__in=in_flight, status__in=ended).values_list("pk", flat=True)
        in_flight -= {str(pk) for pk in done}
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(in_flight) + n - len(ids)} runs not ended after {timeout_s:.0f} s")
    return ids


def _worker(code: Path) -> subprocess.Popen[bytes]:
    from backend.runs.worker_cmd import worker_argv

    argv = worker_argv(concurrency=64, loglevel="WARNING", quiet=True)
    return subprocess.Popen(argv, cwd=code, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=open(f"/tmp/worker-runtime-{os.environ['PATCHBAY_QUEUE']}.log", "w"))




def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.code).resolve()))
    sys.path.insert(1, str(ROOT))  # `bench`, for flow_spec
    import django

    django.setup()
    from backend.runs.models import Run

    endpoint, key = _fixtures(args.model_url, os.environ["PATCHBAY_QUEUE"])
    n, c = args.runs, args.concurrency
    worker = _worker(Path(args.code))
    try:
        _drive(endpoint, key, n, "warm", c, timeout_s=120)
        start_cpu, start_wall = process_cpu_s(worker.pid), time.monotonic()
        timed = _drive(endpoint, key, n, "time", c)
        cpu_s, wall_s = process_cpu_s(worker.pid) - start_cpu, time.monotonic() - start_wall
        if args.profile:
            spy = gil_profiler(worker.pid, args.profile)
            _drive(endpoint, key, n, "profile", c)
            spy.send_signal(signal.SIGINT)
            spy.wait()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    statuses = Counter(Run.objects.filter(pk__in=timed).values_list("status", flat=True))
    print(json.dumps({"cpu_ms_per_run": 1000 * cpu_s / n, "wall_s": wall_s, "statuses": dict(statuses)}))


def engine_child(args: argparse.Namespace) -> None:
    """The engine alone, in this tree: CPU per run of ``execute_graph`` (``parse_graph`` included, as the worker
    does it) on chain3 and on engine_overhead's 50-node llm chain, with a 0 ms model and events dropped."""
    sys.path.insert(0, str(Path(args.code).resolve()))
    sys.path.insert(1, str(ROOT))
    import asyncio

    from backend.engine import execute_graph, parse_graph
    from backend.engine.ports import Ports
    from bench.engine_overhead import NullEvents, ZeroLatencyLLM, chain_graph
    from bench.published_path import flow_spec

    async def cpu_per_run(doc: dict[str, Any], runs: int) -> float:
        llm = ZeroLatencyLLM()
        for warm in (True, False):
            start = time.process_time()
            for _ in range(20 if warm else runs):
                ports = Ports(llm=llm, events=NullEvents())
                result = await execute_graph(parse_graph(doc), {"text": "hello"}, ports=ports)
                if result.status != "succeeded":
                    raise SystemExit(f"{doc['name']}: run {result.status}: {result.error}")
        return (time.process_time() - start) / runs

    chain3 = asyncio.run(cpu_per_run(flow_spec("chain3"), args.runs * 20))
    chain50 = asyncio.run(cpu_per_run(chain_graph("llm"), args.runs * 2))
    print(json.dumps({"chain3_us": 1e6 * chain3, "chain50_us": 1e6 * chain50}))


# --------------------------------------------------------------------------- the parent


def _env(code: Path, queue: str) -> dict[str, str]:
    return tree_env(code, queue=queue, database_url=DATABASE_URL, redis_url=REDIS_URL,
                    data_dir="/tmp/pb-worker-runtime-data")


def run_engine(tag: str, code: Path, args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--engine-child", "--code", str(code),
                          "--runs", str(args.runs)], cwd=code, env=_env(code, f"q_bench_runtime_{tag}"),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tag}: engine child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_tree(tag: str, code: Path, args: argparse.Namespace, model_url: str, profile: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--code", str(code),
                          "--model-url", model_url, "--runs", str(args.runs), "--concurrency", str(args.concurrency),
                          "--profile", profile],
                         cwd=code, env=_env(code, f"q_bench_runtime_{tag}"), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tag}: child failed:\n{out.stderr[:3000]}\n…\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# Each sample goes to the first area whose frame it holds, in this order (a model call's HTTP is litellm's even
# when it runs on the loop; a database thread's work is the database's whoever asked for it).
AREAS = [
    ("database threads (db_call)", ("recovering",)),
    ("litellm and providers/", ("LiteLLMGateway.", "litellm/", "openai/", "aiohttp/", "httpx/", "httpcore/")),
    ("sink: batching, channel-layer publish", ("RunEventSink.", "channels_redis/")),
    ("engine (backend/engine)", ("backend/engine/",)),
    ("liveness, presence (heartbeats, sweep)", ("backend/runs/liveness.py", "backend/runs/worker_presence.py")),
    ("run execution glue (backend/runs, rest)", ("backend/runs/",)),
    ("Celery and kombu (task receipt, pool)", ("celery/", "kombu/", "billiard/", "vine/")),
    ("redis client (other)", ("redis/",)),
    ("asyncio loop, threads, other", ("",)),
]




def report(results: dict[str, list[dict[str, Any]]], engine: dict[str, list[dict[str, Any]]],
           profiles: dict[str, str], args: argparse.Namespace) -> str:
    from bench._common import machine, median, table, today

    rows = []
    for tag, rounds in results.items():
        cpu = [r["cpu_ms_per_run"] for r in rounds]
        wall = [1000 * r["wall_s"] / args.runs for r in rounds]
        statuses: Counter[str] = Counter()
        for r in rounds:
            statuses.update(r["statuses"])
        rows.append([tag, len(rounds), " / ".join(f"{c:.1f}" for c in cpu), f"{median(cpu):.1f}",
                     f"{median(wall):.1f}", dict(statuses)])
    lines = [
        "## The worker's own CPU per run, through a real Celery worker (`bench/worker_runtime.py`, issue 16)",
        "",
        f"{args.runs} chain3 runs of a published endpoint per pass (3 llm steps, `bench/fake_openai.py` at "
        f"{args.latency_ms:g} ms per call through litellm), created and enqueued as a sync flow call does it, "
        f"{args.concurrency} in flight at a time, to one Celery worker process (threads pool, 64 "
        "threads, as `worker_cmd` starts it) per tree and round, after a warm-up pass of the same size. CPU: the "
        "worker process (all threads, user + system, from /proc) per run. Trees alternate.",
        "",
        f"Conditions: {machine()}; {today()} (the machine is shared with other sessions: CPU numbers are upper "
        "bounds, compare within a row set).",
        "",
        table(["tree", "rounds", "worker CPU ms/run (each round)", "median", "wall ms per run (8 in flight)",
               "statuses"], rows),
    ]
    erows = []
    for tag, rounds in engine.items():
        chain3, chain50 = [r["chain3_us"] for r in rounds], [r["chain50_us"] for r in rounds]
        erows.append([tag, " / ".join(f"{c:.0f}" for c in chain3), f"{median(chain3):.0f}",
                      " / ".join(f"{c:.0f}" for c in chain50), f"{median(chain50):.0f}"])
    if erows:
        lines += ["", f"The engine alone, in a child process per tree and round (`execute_graph` with `parse_graph`, a 0 ms "
                  f"scripted model, events dropped; CPU per run over {args.runs * 20} chain3 runs and "
                  f"{args.runs * 2} runs of engine_overhead's 50-node llm chain):", "",
                  table(["tree", "chain3 µs/run (each round)", "median", "50-node chain µs/run (each round)",
                         "median"], erows)]
    if profiles:
        tags = list(profiles)
        shares = {tag: profile_shares(path, args.runs, AREAS) for tag, path in profiles.items()}
        prows = [[label] + [f"{dict(shares[t])[label]:.1f}" for t in tags] for label, _ in AREAS]
        prows.append(["all busy samples"] + [f"{sum(v for _, v in shares[t]):.1f}" for t in tags])
        lines += ["", "Where it goes (py-spy `--gil`, 200 Hz, the thread holding the worker's GIL, one extra pass per tree in the "
                  "last round; ms of samples per run, each sample to the first area in this order whose frame it "
                  "holds):", "", table(["area", *(f"{t} ms/run" for t in tags)], prows)]
    return "\n".join(lines)


def main() -> None:
    parser = tree_parser(__doc__, rounds=3, latency_ms=100.0)
    parser.add_argument("--engine-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.engine_child:
        engine_child(args)
        return
    sys.path.insert(0, str(ROOT))
    from bench._common import write_section

    _fake, model_url = prepare(DATABASE_URL, _env(ROOT, "q_bench_runtime"), args.latency_ms, log)
    tree_list = trees(args.before)
    results: dict[str, list[dict[str, Any]]] = {tag: [] for tag, _ in tree_list}
    engine: dict[str, list[dict[str, Any]]] = {tag: [] for tag, _ in tree_list}
    profiles: dict[str, str] = {}
    for round_no in range(args.rounds):
        for tag, code in tree_list:
            log(f"round {round_no + 1}: {tag}")
            profile = f"{args.profile}.{tag}" if args.profile and round_no == args.rounds - 1 else ""
            results[tag].append(run_tree(tag, code, args, model_url, profile))
            engine[tag].append(run_engine(tag, code, args))
            if profile:
                profiles[tag] = profile
    body = report(results, engine, profiles, args)
    print(body)
    if args.write:
        write_section("worker_runtime", body)


if __name__ == "__main__":
    main()
