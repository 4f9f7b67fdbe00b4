"""The worker's critical path of one run at a time, before and after, in one session (issue 16).

The runs of a published endpoint (``chain3``: input → 3 llm steps → output; ``fanout3``: a parallel node of 3 llm
branches) are created as a flow call creates them (``flow_call_start``, the enqueue left out) and handed **one at
a time** to ``execute_run_async`` on the worker's shared run loop, in a child process per code tree, against
``bench/fake_openai.py`` (in the parent process, over HTTP) at ``--latency-ms`` (0 by default). No web server, no
Celery: what is left is the worker's own path of a run, claim to finish_run, run-finished hook and run-end
publish included. Measured per run: wall time (one run in flight, so the wall is the critical path) and the
whole process's CPU. With ``--profile``, py-spy (``--gil``, 1000 Hz) records one extra pass per tree and shape
and the samples are split into areas (litellm's call, the claim, the sink, the engine, the database threads…).

    .venv/bin/python bench/worker_critical_path.py --before /tmp/lat-base [--runs 60] [--rounds 3] [--write]

Needs PostgreSQL and Redis (BENCH_DATABASE_URL / BENCH_REDIS_URL); the database is created and migrated.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# bench/ is this script's directory, first on the path in the parent and in every tree's child process alike.
from _trees import create_runs, gil_profiler, prepare, profile_shares, tree_env, tree_parser, trees

ROOT = Path(__file__).resolve().parents[1]

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_worker_critical_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SHAPES = ("chain3", "fanout3")
PROFILE_HZ = 1000


def log(message: str) -> None:
    print(f"[worker_critical_path {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the child: one code tree


def _fixtures(model_url: str, queue: str) -> tuple[dict[str, Any], Any]:
    from backend.endpoints.services import api_key_create, endpoint_create
    from backend.graphs.services import graph_create
    from bench._common import bench_workspace
    from bench.published_path import flow_spec

    user, workspace = bench_workspace(f"bench-critical-{queue}", model_url)
    endpoints = {}
    for shape in SHAPES:
        graph = graph_create(workspace=workspace, user=user, spec=flow_spec(shape), message="bench")
        endpoints[shape] = endpoint_create(user=user, graph=graph, slug=f"bench-critical-{queue}-{shape}".replace("_", "-"))
    key, _ = api_key_create(user=user, workspace=workspace, name="bench", rate_limit_per_minute=None)
    return endpoints, key




MARKS: list[tuple[str, int]] = []  # (what, perf_counter_ns) of the run in flight, when --marks


def install_marks() -> None:
    """Timestamps on the run's path, by wrapping (in this process only) the claim, the sink's emit and the
    gateway's model call: the intervals of ``INTERVALS`` per run. A separate pass: the wrappers cost a little."""
    import functools

    from backend.providers.gateway import LiteLLMGateway
    from backend.runs import execution
    from backend.runs.sinks import RunEventSink

    claim = execution.claim

    @functools.wraps(claim)
    def marked_claim(*args: Any, **kwargs: Any) -> Any:
        MARKS.append(("claim start", time.perf_counter_ns()))
        try:
            return claim(*args, **kwargs)
        finally:
            MARKS.append(("claimed", time.perf_counter_ns()))

    execution.claim = marked_claim  # type: ignore[assignment]
    emit = RunEventSink.emit

    def marked_emit(self: Any, event: dict[str, Any]) -> None:
        if event.get("type") in ("run.started", "run.completed"):
            MARKS.append((event["type"], time.perf_counter_ns()))
        emit(self, event)

    RunEventSink.emit = marked_emit  # type: ignore[method-assign]
    complete = LiteLLMGateway.complete

    async def marked_complete(self: Any, *args: Any, **kwargs: Any) -> Any:
        MARKS.append(("model call", time.perf_counter_ns()))
        try:
            return await complete(self, *args, **kwargs)
        finally:
            MARKS.append(("model answer", time.perf_counter_ns()))

    LiteLLMGateway.complete = marked_complete  # type: ignore[method-assign]
    from backend.runs import finished, sinks

    def marked(fn: Any, what: str) -> Any:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            MARKS.append((f"{what} start", time.perf_counter_ns()))
            try:
                return fn(*args, **kwargs)
            finally:
                MARKS.append((f"{what} end", time.perf_counter_ns()))
        return call

    finished.announce_end = marked(finished.announce_end, "announce")  # type: ignore[assignment]
    finished.notify_finished = marked(finished.notify_finished, "hook")  # type: ignore[assignment]
    sinks.persist_events = marked(sinks.persist_events, "persist")  # type: ignore[assignment]


INTERVALS = ["task start → claim start", "claim (in its database thread)", "claimed → run.started",
             "run.started → first model call", "model calls (gateway.complete, sum)", "between model calls (sum)",
             "last model answer → run.completed", "run.completed → last batch's write starts",
             "last batch's write → its commit's end PUBLISH sent", "the end PUBLISH", "run-finished hook",
             "hook's end → run's task ends", "run.completed → run's task ends"]


def _intervals(marks: list[tuple[str, int]], start: int, end: int) -> dict[str, float]:
    at: dict[str, list[int]] = {}
    for what, ns in marks:
        at.setdefault(what, []).append(ns)
    calls, answers = at.get("model call", []), at.get("model answer", [])
    ms = 1e-6
    between = sum(max(0, c - a) for a, c in zip(sorted(answers), sorted(calls)[1:]))
    return {
        INTERVALS[0]: ms * (at["claim start"][0] - start), INTERVALS[1]: ms * (at["claimed"][0] - at["claim start"][0]),
        INTERVALS[2]: ms * (at["run.started"][0] - at["claimed"][0]),
        INTERVALS[3]: ms * (min(calls) - at["run.started"][0]),
        INTERVALS[4]: ms * sum(a - c for c, a in zip(sorted(calls), sorted(answers))),
        INTERVALS[5]: ms * between, INTERVALS[6]: ms * (at["run.completed"][0] - max(answers)),
        INTERVALS[7]: ms * (at["persist start"][-1] - at["run.completed"][0]),
        INTERVALS[8]: ms * (at["announce start"][0] - at["persist start"][-1]),
        INTERVALS[9]: ms * (at["announce end"][0] - at["announce start"][0]),
        INTERVALS[10]: ms * (at["hook end"][0] - at["hook start"][0]),
        INTERVALS[11]: ms * (end - at["hook end"][0]),
        INTERVALS[12]: ms * (end - at["run.completed"][0]),
    }


def _one_at_a_time(ids: list[str], marks: list[dict[str, float]] | None = None) -> tuple[list[float], float]:
    """Each run's wall ms, one after another on the run loop; and the process CPU seconds over all of them."""
    from backend.runs.execution import execute_run_async
    from backend.runs.loop import run_on_loop

    walls = []
    cpu = time.process_time()
    for run_id in ids:
        MARKS.clear()
        start = time.perf_counter_ns()
        run_on_loop(execute_run_async(run_id))
        end = time.perf_counter_ns()
        walls.append((end - start) / 1e6)
        if marks is not None:
            marks.append(_intervals(MARKS, start, end))
    return walls, time.process_time() - cpu


def _end_batches(ids: list[str]) -> dict[str, float]:
    """A run's last batch (its output node's end and run.completed, with totals) stored by ``persist_events`` in
    this thread, the run's end and its commit hooks included: median wall and CPU µs, after 10 unmeasured."""
    from backend.runs.models import Run
    from backend.runs.sinks import persist_events

    Run.objects.filter(pk__in=ids).update(status=Run.Status.RUNNING)
    walls, cpus = [], []
    for i, run_id in enumerate(ids):
        now = time.time()
        span = {"span_id": f"{i:016x}", "kind": "node", "name": "out", "node_id": "out", "node_type": "output",
                "status": "succeeded", "started_at": now, "ended_at": now + 0.001, "output": "done " * 40}
        batch = [{"type": "node.completed", "run_id": run_id, "seq": 1, "ts": now, "node_id": "out", "span": span},
                 {"type": "run.completed", "run_id": run_id, "seq": 2, "ts": now, "status": "succeeded",
                  "output": "done " * 40, "error": None,
                  "totals": {"input_tokens": 30, "output_tokens": 30, "cost_usd": 0.001, "llm_calls": 3,
                             "duration_ms": 300.0, "cache_hits": 0, "saved_usd": 0.0, "saved_ms": 0.0}}]
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        if not persist_events(run_id, batch):
            raise SystemExit(f"run {run_id}: its end batch was not stored")
        walls.append((time.perf_counter_ns() - wall) / 1e3)
        cpus.append((time.thread_time_ns() - cpu) / 1e3)
    return {"wall_us": statistics.median(walls[10:]), "cpu_us": statistics.median(cpus[10:])}




def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.code).resolve()))
    sys.path.insert(1, str(ROOT))  # `bench`, for flow_spec
    import django

    django.setup()
    from django.db import connections

    from backend.runs.models import Run

    endpoints, key = _fixtures(args.model_url, os.environ["PATCHBAY_QUEUE"])
    out: dict[str, Any] = {}
    if args.only_end:
        print(json.dumps({"end_batch": _end_batches(create_runs(endpoints["chain3"], key, args.runs * 2, "end"))}))
        return
    for shape in SHAPES:
        n = args.runs
        warm, timed = (create_runs(endpoints[shape], key, n, f"{shape}-{t}") for t in ("warm", "time"))
        profiled = create_runs(endpoints[shape], key, n, f"{shape}-profile") if args.profile else []
        connections.close_all()
        _one_at_a_time(warm)
        walls, cpu_s = _one_at_a_time(timed)
        if profiled:
            spy = gil_profiler(os.getpid(), f"{args.profile}.{shape}", PROFILE_HZ)
            _one_at_a_time(profiled)
            spy.send_signal(signal.SIGINT)
            spy.wait()
        statuses = Counter(Run.objects.filter(pk__in=timed).values_list("status", flat=True))
        out[shape] = {"walls": walls, "cpu_ms_per_run": 1000 * cpu_s / n, "statuses": dict(statuses)}
    out["end_batch"] = _end_batches(create_runs(endpoints["chain3"], key, args.runs * 2, "end"))
    # The marked pass last: its wrappers stay installed.
    install_marks()
    for shape in SHAPES:
        marked: list[dict[str, float]] = []
        _one_at_a_time(create_runs(endpoints[shape], key, args.runs, f"{shape}-marks"), marked)
        out[shape]["marks"] = {k: statistics.median(m[k] for m in marked) for k in INTERVALS}
    print(json.dumps(out))


# --------------------------------------------------------------------------- the parent


def _env(code: Path, queue: str) -> dict[str, str]:
    return tree_env(code, queue=queue, database_url=DATABASE_URL, redis_url=REDIS_URL,
                    data_dir="/tmp/pb-worker-critical-data")


def run_tree(tag: str, code: Path, args: argparse.Namespace, model_url: str, profile: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--code", str(code),
                          "--model-url", model_url, "--runs", str(args.runs), "--profile", profile,
                          *(["--only-end"] if args.only_end else [])],
                         cwd=code, env=_env(code, f"q_bench_critical_{tag}"), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tag}: child failed:\n{out.stderr[:3000]}\n…\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# Each sample goes to the first area whose frame it holds, in this order.
AREAS = [
    ("model call: litellm", ("litellm/", "openai/", "aiohttp/", "httpx/", "httpcore/")),
    ("model call: gateway, registry, breaker", ("backend/providers/",)),
    ("database threads (db_call)", ("recovering",)),
    ("claim (planning, on the loop)", (" claim (",)),
    ("sink: batching, channel-layer publish", ("RunEventSink.", "channels_redis/")),
    ("engine (backend/engine)", ("backend/engine/",)),
    ("run end, hooks, rest of backend/runs", ("backend/runs/",)),
    ("redis client (other)", ("redis/",)),
    ("asyncio loop, threads, other", ("",)),
]




def report(results: dict[str, list[dict[str, Any]]], profiles: dict[str, str], args: argparse.Namespace) -> str:
    from bench._common import machine, median, table, today

    lines = [
        "## The worker's critical path of one run (`bench/worker_critical_path.py`, issue 16)",
        "",
        f"{args.runs} runs per shape, tree and round, **one at a time** through `execute_run_async` on the worker's "
        f"run loop (claim → engine → sink → finish_run, run-finished hook, run-end publish), created as a flow call "
        f"creates them; `bench/fake_openai.py` at {args.latency_ms:g} ms per call over HTTP (litellm), in another "
        "process. No web server, no Celery. Wall = one run's time (nothing else in flight); CPU = the whole "
        "process's per run. Trees alternate, one child process per tree and round, after a warm-up pass.",
        "",
        f"Conditions: {machine()}; {today()}.",
        "",
    ]
    for shape in () if args.only_end else SHAPES:
        rows = []
        for tag, rounds in results.items():
            walls = [median(r[shape]["walls"]) for r in rounds]
            cpu = [r[shape]["cpu_ms_per_run"] for r in rounds]
            statuses: Counter[str] = Counter()
            for r in rounds:
                statuses.update(r[shape]["statuses"])
            rows.append([tag, " / ".join(f"{w:.1f}" for w in walls), f"{median(walls):.1f}",
                         " / ".join(f"{c:.1f}" for c in cpu), f"{median(cpu):.1f}", dict(statuses)])
        lines += [f"**{shape}**", "", table(["tree", "wall ms per run, median (each round)", "median",
                                             "CPU ms per run (each round)", "median", "statuses"], rows), ""]
    erows = [[tag, " / ".join(f"{r['end_batch']['wall_us']:.0f}" for r in rounds),
              f"{median([r['end_batch']['wall_us'] for r in rounds]):.0f}",
              " / ".join(f"{r['end_batch']['cpu_us']:.0f}" for r in rounds),
              f"{median([r['end_batch']['cpu_us'] for r in rounds]):.0f}"] for tag, rounds in results.items()]
    lines += [f"**A run's last batch** (`persist_events` of an output node's end and `run.completed` on a running "
              f"run, called directly in the child's main thread: statement(s), commit, run-end PUBLISH and "
              f"run-finished hook; {args.runs * 2 - 10} per tree and round, median µs):", "",
              table(["tree", "wall µs (each round)", "median", "CPU µs of the thread (each round)", "median"],
                    erows), ""]
    for shape in () if args.only_end else SHAPES:
        mrows = [[k, *(f"{median([r[shape]['marks'][k] for r in rounds]):.2f}" for rounds in results.values())]
                 for k in INTERVALS]
        lines += [f"**{shape}**, where one run's wall goes (a separate pass per round with timestamps taken by "
                  "wrapping the claim, the sink's emit and the gateway's `complete`; median per run, then median "
                  "of the rounds; ms):", "", table(["interval", *results], mrows), ""]
    for shape in SHAPES:
        found = {tag: path for tag, path in profiles.items() if Path(f"{path}.{shape}").exists()}
        if not found:
            continue
        shares = {tag: dict(profile_shares(f"{path}.{shape}", args.runs, AREAS, PROFILE_HZ))
                  for tag, path in found.items()}
        prow = [[label, *(f"{shares[tag][label]:.2f}" for tag in found)] for label, _ in AREAS]
        lines += [f"Where {shape}'s time on the GIL goes (py-spy `--gil`, {PROFILE_HZ} Hz, one extra pass per tree in "
                  "the last round; ms of samples per run, each sample to the first area in this order whose frame "
                  "it holds):", "", table(["area", *(f"{tag} ms/run" for tag in found)], prow), ""]
    return "\n".join(lines).rstrip()


def main() -> None:
    parser = tree_parser(__doc__, rounds=3, latency_ms=0.0)
    parser.add_argument("--only-end", action="store_true", help="measure only the run's last batch")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sys.path.insert(0, str(ROOT))
    from bench._common import write_section

    _fake, model_url = prepare(DATABASE_URL, _env(ROOT, "q_bench_critical"), args.latency_ms, log)
    tree_list = trees(args.before)
    results: dict[str, list[dict[str, Any]]] = {tag: [] for tag, _ in tree_list}
    profiles: dict[str, str] = {}
    for round_no in range(args.rounds):
        for tag, code in tree_list:
            log(f"round {round_no + 1}: {tag}")
            profile = ""
            if args.profile and round_no == args.rounds - 1:
                profile = profiles[tag] = f"{args.profile}.{tag}"
            results[tag].append(run_tree(tag, code, args, model_url, profile))
    body = report(results, profiles, args)
    print(body)
    if args.write:
        write_section("worker_critical_path", body)


if __name__ == "__main__":
    main()
