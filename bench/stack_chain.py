"""A 4-step chain through the whole stack, and how many runs one worker process holds at once.

Starts what production runs: PostgreSQL-backed Django behind Daphne (HTTP + websockets), a real Celery
worker (threads pool, 64 threads) on Redis, and litellm calling ``bench/fake_openai.py`` over HTTP.

Part 1: input → 4 sequential llm nodes (100 ms model) → output. For each run, the wall time from just
before ``POST /api/runs/`` to receiving ``run.completed`` on ``/ws/runs/<id>/``, and where it went (from
the run row, its events and its stored spans).

Part 2: 64 runs of a one-llm-node graph on a 1000 ms model submitted at once; the wall time until all
are finished and the most runs seen ``running`` at the same time (API polled every 50 ms).

    .venv/bin/python bench/stack_chain.py [--runs 20] [--flight 64]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at 127.0.0.1:6379; override
with BENCH_DATABASE_URL / BENCH_REDIS_URL. The database is created and migrated if missing.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, median, ms, p95, table, today, write_section  # noqa: E402
from bench._stack import Child, require_alive, stack_env, start_web, start_worker  # noqa: E402
from bench._stack import ensure_database as create_database  # noqa: E402
from bench.fake_openai import FakeConfig, FakeServer, start_in_thread  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUEUE = f"patchbay-bench-{os.getpid()}"
STEPS = 4
WORKER_CONCURRENCY = 64
FINISHED = {"succeeded", "failed", "budget_exceeded", "cancelled"}
TARGET_WALL_MS = 450
OUT = ROOT / "bench" / "out"  # git-ignored: logs of the last run


def log(message: str) -> None:
    print(f"[stack_chain {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def ensure_database() -> None:
    create_database(DATABASE_URL, log)


def child_env(data_dir: str) -> dict[str, str]:
    return stack_env(DATABASE_URL, REDIS_URL, QUEUE, data_dir)


# --------------------------------------------------------------------------- fixtures (ORM, in this process)


def setup_fixtures(fast_url: str, slow_url: str) -> str:
    """A user with a token, and the two model aliases pointing at the fake servers. Returns the token."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from backend.graphs.models import Graph
    from backend.graphs.services import workspace_for_user
    from backend.providers.models import ModelAlias
    from backend.runs.models import Run

    user, _ = get_user_model().objects.get_or_create(username="bench")
    workspace = workspace_for_user(user)
    # Earlier bench runs and graphs (runs first: a run PROTECTs its graph version).
    Run.objects.filter(workspace=workspace).delete()
    Graph.objects.filter(workspace=workspace).delete()
    for alias, url in (("bench100", fast_url), ("bench1000", slow_url)):
        ModelAlias.objects.update_or_create(alias=alias, defaults={
            "model": "openai/gpt-4o-mini", "api_base": url, "api_key_env": "PATH", "enabled": True,
            "fallbacks": [], "max_retries": 2, "timeout_s": 30})
    token, _ = Token.objects.get_or_create(user=user)
    from django.db import connections

    connections.close_all()
    return token.key


# --------------------------------------------------------------------------- graphs


def chain_spec(alias: str, steps: int, name: str) -> dict:
    ids = ["in"] + [f"s{i}" for i in range(1, steps + 1)] + ["out"]
    nodes: list[dict] = [{"id": "in", "type": "input"}]
    for i in range(1, steps + 1):
        reads = "input.text" if i == 1 else f"nodes.s{i - 1}.output"
        nodes.append({"id": f"s{i}", "type": "llm",
                      "config": {"model": alias, "prompt": f"Step {i} of {steps}: improve {{{{ {reads} }}}}"}})
    nodes.append({"id": "out", "type": "output", "config": {"value": f"{{{{ nodes.s{steps}.output }}}}"}})
    return {"schema": "patchbay.graph/v1", "name": name,
            "inputs": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            "nodes": nodes, "edges": [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]}


async def create_graph(client: Any, spec: dict) -> int:
    response = await client.post("/api/graphs/", json={"spec": spec, "message": "bench"})
    if response.status_code != 201:
        raise RuntimeError(f"POST /api/graphs/ → {response.status_code}: {response.text[:500]}")
    return response.json()["id"]


async def start_run(client: Any, graph_id: int, text: str) -> dict:
    response = await client.post("/api/runs/", json={"graph": graph_id, "input": {"text": text}})
    if response.status_code != 201:
        raise RuntimeError(f"POST /api/runs/ → {response.status_code}: {response.text[:500]}")
    return response.json()


def when(value: str | None) -> float | None:
    return None if value is None else dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------------- part 1: the chain


async def one_chain_run(client: Any, ws_url: str, token: str, graph_id: int, text: str,
                        timeout: float = 60) -> dict[str, Any]:
    import websockets

    epoch0, t0 = time.time(), time.perf_counter()
    run = await start_run(client, graph_id, text)
    t_posted = time.perf_counter()
    events: dict[str, dict] = {}
    async with websockets.connect(f"{ws_url}/ws/runs/{run['id']}/?after=0",
                                  additional_headers={"Authorization": f"Token {token}"}, open_timeout=10) as ws:
        t_open = time.perf_counter()
        async with asyncio.timeout(timeout):
            while True:
                event = json.loads(await ws.recv())
                if event["type"] in ("run.started", "run.completed"):
                    events[event["type"]] = event
                if event["type"] == "run.completed":
                    break
    t_end, epoch_end = time.perf_counter(), time.time()
    return {"id": run["id"], "wall": t_end - t0, "post": t_posted - t0, "ws_open": t_open - t_posted,
            "epoch0": epoch0, "epoch_end": epoch_end, "status": events["run.completed"]["status"],
            "error": events["run.completed"].get("error"),
            "started_ts": events["run.started"]["ts"], "completed_ts": events["run.completed"]["ts"]}


async def breakdown(client: Any, sample: dict[str, Any]) -> dict[str, float]:
    """Where one run's wall time went, from its row, its two run events and its stored spans (seconds)."""
    detail = (await client.get(f"/api/runs/{sample['id']}/")).json()
    llm = [s for s in detail["spans"] if s["kind"] == "llm"]
    created, started = when(detail["created_at"]), when(detail["started_at"])
    assert created is not None and started is not None
    engine = sample["completed_ts"] - sample["started_ts"]
    llm_sum = sum(s["duration_ms"] for s in llm) / 1000
    provider = sum(s["attributes"].get("patchbay.provider_ms", 0) for s in llm) / 1000
    nodes = {s["span_id"]: s for s in detail["spans"] if s["kind"] == "node"}
    # Inside a node, before its model call: estimate_cost (route lookup in the DB, token count) and templates.
    before_call = sum(when(s["started_at"]) - when(nodes[s["parent_id"]]["started_at"])  # type: ignore[operator]
                      for s in llm if s["parent_id"] in nodes)
    return {
        "http_create": created - sample["epoch0"],
        "queue_to_claim": started - created,
        "claim_to_engine": sample["started_ts"] - started,
        "engine": engine,
        "llm_spans": llm_sum,
        "provider": provider,
        "engine_not_llm": engine - llm_sum,
        "before_call": before_call,
        "span_not_provider": llm_sum - provider,
        "completed_to_client": sample["epoch_end"] - sample["completed_ts"],
        "llm_calls": float(len(llm)),
    }


async def part_chain(http_url: str, ws_url: str, token: str, runs: int, warmup: int,
                     workers: tuple[Child, Child], stack_started: float) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=http_url, headers={"Authorization": f"Token {token}"},
                                 timeout=60) as client:
        graph_id = await create_graph(client, chain_spec("bench100", STEPS, f"bench-chain-{STEPS}"))
        first_run_s = 0.0
        for i in range(warmup):
            # The first run also waits for the worker to come up (it sits in the queue until then).
            sample = await asyncio.wait_for(one_chain_run(client, ws_url, token, graph_id, f"warm-up {i}", 120),
                                            timeout=150)
            if sample["status"] != "succeeded":
                raise RuntimeError(f"warm-up run {sample['status']}: {sample['error']}")
            if i == 0:
                first_run_s = time.perf_counter() - stack_started
                log(f"stack ready; first run done {first_run_s:.1f}s after starting the worker")
        if not all(w.alive() for w in workers):
            raise RuntimeError("a server process died during warm-up")
        samples = []
        for i in range(runs):
            sample = await one_chain_run(client, ws_url, token, graph_id, f"benchmark run {i} " + "x" * (i % 7))
            if sample["status"] != "succeeded":
                raise RuntimeError(f"run {sample['id']} {sample['status']}: {sample['error']}")
            samples.append(sample)
            await asyncio.sleep(0.05)  # let the sink's last publish and the socket close settle
        parts = [await breakdown(client, s) for s in samples]
    return {"samples": samples, "parts": parts, "first_run_s": first_run_s}


# --------------------------------------------------------------------------- part 2: runs in flight


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    best = current = 0
    for _, step in points:  # at equal times an end (-1) sorts before a start (+1)
        current += step
        best = max(best, current)
    return best


class WorkerControl:
    """Stop and restart the worker's consumption of the bench queue (Celery remote control)."""

    def __init__(self, hostname: str):
        from backend.config.celery import app

        self.app, self.hostname = app, hostname

    def pause(self) -> bool:
        replies = self.app.control.cancel_consumer(QUEUE, destination=[self.hostname], reply=True, timeout=5)
        return bool(replies)

    def resume(self) -> bool:
        replies = self.app.control.add_consumer(QUEUE, destination=[self.hostname], reply=True, timeout=5)
        return bool(replies)


async def part_flight(http_url: str, token: str, count: int, fake_slow: FakeServer, *, control: WorkerControl | None,
                      label: str, poll_s: float = 0.05, timeout: float = 60, stall_s: float = 6) -> dict[str, Any]:
    """Submit ``count`` one-call runs concurrently; poll until every created run is finished (or stuck).

    With ``control``, the worker stops consuming while the runs are created and resumes after: the runs
    then start together from the queue, and the clock starts at the resume.
    """
    import httpx

    limits = httpx.Limits(max_connections=count + 4, max_keepalive_connections=count + 4)
    async with httpx.AsyncClient(base_url=http_url, headers={"Authorization": f"Token {token}"}, timeout=60,
                                 limits=limits) as client:
        graph_id = await create_graph(client, chain_spec("bench1000", 1, f"bench-flight-{label}"))
        if control is not None and not control.pause():
            raise RuntimeError("the worker did not answer cancel_consumer")
        fake_slow.reset_stats()
        timeline: list[tuple[float, int, int, int]] = []  # (t, queued, running, finished)
        poll_errors: list[str] = []
        expected = {"n": count}
        resumed = asyncio.Event()
        epoch0, t0 = time.time(), time.perf_counter()

        async def poll() -> str:
            tick, last_change, last_counts = 0, time.perf_counter(), None
            while True:
                response = await client.get("/api/runs/", params={"graph": graph_id})
                now = time.perf_counter()
                if response.status_code != 200:
                    poll_errors.append(f"{response.status_code} {response.text[:200]}")
                else:
                    rows = response.json()
                    queued = sum(1 for r in rows if r["status"] == "queued")
                    running = sum(1 for r in rows if r["status"] == "running")
                    finished = sum(1 for r in rows if r["status"] in FINISHED)
                    timeline.append((now - t0, queued, running, finished))
                    if finished >= expected["n"] and (control is None or resumed.is_set()):
                        return "all finished"
                    if (queued, running, finished) != last_counts:
                        last_counts, last_change = (queued, running, finished), now
                    elif (now - last_change > stall_s and running == 0
                          and (control is None or resumed.is_set())):
                        return f"stuck: {queued} runs still queued, no change for {stall_s:g} s"
                if now - t0 > timeout:
                    return f"timed out after {timeout:g} s"
                tick += 1
                await asyncio.sleep(max(0.0, t0 + tick * poll_s - time.perf_counter()))

        poller = asyncio.create_task(poll())
        outcomes = await asyncio.gather(*(start_run(client, graph_id, f"in flight {i}") for i in range(count)),
                                        return_exceptions=True)
        t_submitted = time.perf_counter() - t0
        created = [o for o in outcomes if isinstance(o, dict)]
        post_errors = [str(o) for o in outcomes if not isinstance(o, dict)]
        expected["n"] = len(created)
        t_resume = 0.0
        if control is not None:
            await asyncio.sleep(0.2)  # the last enqueue happens on commit, just after the response
            t_resume = time.perf_counter() - t0
            if not control.resume():
                raise RuntimeError("the worker did not answer add_consumer")
            resumed.set()
        ending = await poller
        rows = (await client.get("/api/runs/", params={"graph": graph_id})).json()
    ids = {r["id"] for r in created}
    rows = [r for r in rows if r["id"] in ids]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    ran = [r for r in rows if r["started_at"] and r["finished_at"]]
    intervals = [(when(r["started_at"]), when(r["finished_at"])) for r in ran]
    stats = fake_slow.stats()
    during = [t for t in timeline if t[0] >= t_resume]
    last_finish = max((b for _, b in intervals), default=float("nan"))  # type: ignore[type-var]
    return {
        "label": label, "count": count, "created": len(created), "post_errors": post_errors, "ending": ending,
        "poll_errors": poll_errors, "submitted": t_submitted, "statuses": statuses, "paused": control is not None,
        # From the first POST (or the resume) to the last finished_at of a run that finished.
        "wall": last_finish - (epoch0 + t_resume),  # type: ignore[operator]
        "max_running_polled": max((t[2] for t in during), default=0), "polls": len(timeline),
        "max_running_rows": max_overlap(intervals),  # type: ignore[arg-type]
        "max_in_flight_model": stats["max_in_flight"], "model_requests": stats["requests"],
        "run_durations": [b - a for a, b in intervals],  # type: ignore[operator]
        "finished": len(ran),
    }


# --------------------------------------------------------------------------- report


def report(args: argparse.Namespace, chain: dict[str, Any], live: list[dict[str, Any]],
           queued: dict[str, Any] | None, deadlocks: dict[str, int], setup_s: float, total_s: float) -> str:
    walls = [s["wall"] for s in chain["samples"]]
    over = [w - STEPS * args.latency_ms / 1000 for w in walls]
    post = [s["post"] for s in chain["samples"]]
    ws_open = [s["ws_open"] for s in chain["samples"]]
    parts = chain["parts"]

    def med(key: str) -> float:
        return median([p[key] for p in parts])

    model_ms = STEPS * args.latency_ms
    chain_rows = [
        ["wall: POST /api/runs/ → `run.completed` on the websocket", ms(median(walls), 1), ms(p95(walls), 1)],
        [f"overhead = wall − {STEPS} × {args.latency_ms:g} ms", ms(median(over), 1), ms(p95(over), 1)],
        ["POST /api/runs/ response time", ms(median(post), 1), ms(p95(post), 1)],
        ["websocket open (after the POST returned)", ms(median(ws_open), 1), ms(p95(ws_open), 1)],
    ]
    phase_rows = [
        ["1. client POST → run row created (`created_at`)", ms(med("http_create"), 1)],
        ["2. row created → worker claims it (`started_at`): commit, on_commit enqueue, Redis, Celery, claim",
         ms(med("queue_to_claim"), 1)],
        ["3. claimed → `run.started` (prompts lookup, sink, parse)", ms(med("claim_to_engine"), 1)],
        [f"4. engine: `run.started` → `run.completed` ({STEPS} llm nodes)", ms(med("engine"), 1)],
        [f"   4a. sum of the {STEPS} llm span durations", ms(med("llm_spans"), 1)],
        [f"   4b. of which litellm `acompletion` (provider_ms; fake model sleeps {model_ms:g} ms in all)",
         ms(med("provider"), 1)],
        ["   4c. inside the llm spans but outside litellm (route lookup in the DB again, span bookkeeping)",
         ms(med("span_not_provider"), 1)],
        ["   4d. engine time outside llm spans", ms(med("engine_not_llm"), 1)],
        [f"      4d′. of which node start → its model call (`estimate_cost`: route lookup in the DB + "
         f"token count; {STEPS} nodes)", ms(med("before_call"), 1)],
        ["5. `run.completed` emitted → received by the client (persist, group_send, Daphne, websocket)",
         ms(med("completed_to_client"), 1)],
    ]
    per_call = (med("provider") - STEPS * args.latency_ms / 1000) / STEPS
    flights = [*live, *([queued] if queued is not None else [])]

    def each(fn: Callable[[dict[str, Any]], object]) -> list[object]:
        return [fn(f) for f in flights]

    def durations(f: dict[str, Any]) -> str:
        d = f["run_durations"]
        return f"{median(d):.2f} / {max(d):.2f} s" if d else "n/a"

    flight_rows = [
        ["concurrent `POST /api/runs/` answered 201 / 500", *each(lambda f: f"{f['created']} / {len(f['post_errors'])}")],
        ["all POSTs answered after", *each(lambda f: f"{f['submitted']:.2f} s")],
        ["**wall: first POST (pre-queued: resume) → last run's `finished_at`**", *each(lambda f: f"**{f['wall']:.2f} s**")],
        ["runs finished / created", *each(lambda f: f"{f['finished']} / {f['created']}")],
        ["final statuses", *each(lambda f: ", ".join(f"{k} {v}" for k, v in sorted(f["statuses"].items())))],
        ["how polling ended", *each(lambda f: f["ending"])],
        ["max runs `running` at once, API polled every 50 ms", *each(lambda f: f["max_running_polled"])],
        ["max runs `running` at once, from `started_at`/`finished_at`", *each(lambda f: f["max_running_rows"])],
        ["max model requests in flight at the fake provider", *each(lambda f: f["max_in_flight_model"])],
        ["run duration `started_at` → `finished_at`, median / max", *each(durations)],
    ]
    columns = ["measure"] + [f"live burst {i + 1}" for i in range(len(live))] + (["pre-queued"] if queued else [])
    clean = [f for f in live if f["finished"] == f["count"] and not f["post_errors"]]
    errors = "; ".join(f"{name}: {n}" for name, n in deadlocks.items()) or "none"
    if clean:
        headline = (f"{clean[0]['count']} runs × 1 s each finished in {median([f['wall'] for f in clean]):.2f} s "
                    f"(median of the {len(clean)} live burst{'s' if len(clean) > 1 else ''} where every run "
                    f"finished) on one worker process with the threads pool (a prefork pool of 2 would need "
                    f"~{clean[0]['count'] / 2:.0f} s).")
    elif queued is not None:
        headline = (f"No live burst finished cleanly; pre-queued, {queued['count']} runs × 1 s each finished in "
                    f"{queued['wall']:.2f} s on one worker process with the threads pool (a prefork pool of 2 "
                    f"would need ~{queued['count'] / 2:.0f} s).")
    else:
        headline = "No burst finished cleanly."
    broken = len(live) - len(clean)
    if broken and sum(deadlocks.values()):
        headline += (f" {broken} of {len(live)} live bursts lost runs: PostgreSQL deadlocks between the worker's claim "
                     "(`SELECT … FOR UPDATE` joined to the workspace and graph version rows) and concurrent run "
                     "inserts (foreign-key `FOR KEY SHARE` on the same rows) failed POSTs with 500 and left runs "
                     "`queued` for good (their Celery task failed and is not retried).")
    elif broken:
        headline += f" {broken} of {len(live)} live bursts lost runs (see the logs in `bench/out/`)."
    return f"""## Whole stack: 4-step chain and runs in flight (`bench/stack_chain.py`)

Real stack on one machine: Daphne (`backend.config.asgi`, HTTP + websockets), one Celery worker process
(`--pool threads --concurrency {WORKER_CONCURRENCY}`, gossip/mingle/heartbeat off), PostgreSQL (`patchbay_bench`),
Redis (broker + channel layer, db {urlparse(REDIS_URL).path.lstrip('/') or 0}), litellm → `bench/fake_openai.py`
over HTTP (model aliases `bench100` and `bench1000` = `openai/gpt-4o-mini` with `api_base` on the fake server).
Client: httpx (token auth) and the `websockets` library with `Authorization: Token …`, in the bench process.

Conditions: {machine()}; {today()}; worker + server start-up and the first run {setup_s:.1f} s; whole script
{total_s:.1f} s. Worker and server logs of the last run: `bench/out/` (git-ignored).

### Part 1: input → {STEPS} sequential llm nodes ({args.latency_ms:g} ms model) → output

{args.warmup} warm-up runs, then {args.runs} runs one after another; each run: `POST /api/runs/`, then open
`/ws/runs/<id>/?after=0` and read until `run.completed`. Target to compare against: wall ≤ {TARGET_WALL_MS} ms.

{table(["measure", "median ms", "p95 ms"], chain_rows)}

Where the time went (median of each phase over the {args.runs} runs; server timestamps from the run row, the
`run.started`/`run.completed` events and the stored spans; same machine, so the clocks agree). Per model call,
litellm + HTTP to the fake server added {per_call * 1000:.1f} ms on top of the {args.latency_ms:g} ms sleep.

{table(["phase", "median ms"], phase_rows)}

### Part 2: runs in flight on one worker process ({args.flight_latency_ms:g} ms model, one llm node per run)

{args.flight} runs of a one-llm-node graph, submitted as {args.flight} concurrent POSTs. Live bursts: the worker
is consuming while the runs are created (as in production). Pre-queued: the worker's consumer is paused (Celery
`cancel_consumer`) while the POSTs are made and resumed after, so the runs start together from the queue and run
creation never overlaps the claims; its clock starts at the resume. Run creation racing the worker's claims can
deadlock in PostgreSQL (seen intermittently while writing this benchmark: POSTs failing with 500 and runs left
`queued` for good); the table shows what happened in this run, and the error count below says whether it did.

{table(columns, flight_rows)}

{headline}

"deadlock detected" errors logged during the whole script: {errors}.
"""


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--flight", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--flight-latency-ms", type=float, default=1000)
    parser.add_argument("--bursts", type=int, default=3, help="live bursts of --flight runs (part 2a)")
    parser.add_argument("--no-prequeued", action="store_true", help="skip part 2b (consumer paused, then resumed)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave results.md alone")
    args = parser.parse_args()

    script_started = time.perf_counter()
    data_dir = tempfile.mkdtemp(prefix="patchbay-bench-")
    env = child_env(data_dir)
    # This process uses the ORM for fixtures: same settings as the children.
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "PATCHBAY_QUEUE", "PATCHBAY_DATA_DIR",
                                           "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL")})
    children: list[Child] = []
    fakes: list[FakeServer] = []
    try:
        ensure_database()
        log("migrating")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        fakes.append(start_in_thread(FakeConfig(latency_ms=args.latency_ms)))
        fakes.append(start_in_thread(FakeConfig(latency_ms=args.flight_latency_ms)))
        token = setup_fixtures(fakes[0].url, fakes[1].url)

        setup_started = time.perf_counter()
        hostname = f"bench-{os.getpid()}@{socket.gethostname()}"
        worker = start_worker(env, hostname, WORKER_CONCURRENCY)
        children.append(worker)
        server, port = start_web(env)
        children.append(server)
        http_url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"

        log(f"part 1: {args.warmup} warm-up + {args.runs} runs of a {STEPS}-step chain")
        chain = asyncio.run(part_chain(http_url, ws_url, token, args.runs, args.warmup, (worker, server),
                                       setup_started))
        walls = [s["wall"] for s in chain["samples"]]
        log(f"chain wall median {ms(median(walls), 1)} ms, p95 {ms(p95(walls), 1)} ms")

        live = []
        for burst in range(args.bursts):
            log(f"part 2a: live burst {burst + 1}/{args.bursts}: {args.flight} runs of "
                f"{args.flight_latency_ms:g} ms submitted at once")
            flight = asyncio.run(part_flight(http_url, token, args.flight, fakes[1], control=None,
                                             label=f"live-{burst + 1}"))
            live.append(flight)
            log(f"  {flight['created']} created ({len(flight['post_errors'])} POSTs failed); {flight['ending']}; "
                f"last finished {flight['wall']:.2f} s after the first POST; max running "
                f"{flight['max_running_polled']} (polled), {flight['max_running_rows']} (from rows)")
        queued = None
        if not args.no_prequeued:
            log(f"part 2b: {args.flight} runs queued while the worker's consumer is paused, then resumed")
            queued = asyncio.run(part_flight(http_url, token, args.flight, fakes[1], control=WorkerControl(hostname),
                                             label="prequeued"))
            log(f"  {queued['created']} created; {queued['ending']}; last finished {queued['wall']:.2f} s after the "
                f"resume; max running {queued['max_running_polled']} (polled), {queued['max_running_rows']} (rows)")
        require_alive(children)
        deadlocks = {child.name: sum("OperationalError: deadlock detected" in line for line in child.lines)
                     for child in children}
        body = report(args, chain, live, queued, deadlocks, chain["first_run_s"],
                      time.perf_counter() - script_started)
        print(body)
        if not args.no_write:
            write_section("stack_chain", body)
    except BaseException:
        for child in children:
            print(f"--- last output of {child.name} ---\n{child.tail()}", file=sys.stderr)
        raise
    finally:
        for child in reversed(children):
            child.stop()
        OUT.mkdir(exist_ok=True)
        for child in children:
            (OUT / f"stack_chain-{child.name.replace(' ', '-')}.log").write_text("\n".join(child.lines) + "\n")
        for fake in fakes:
            fake.stop()
        try:
            import redis

            redis.Redis.from_url(REDIS_URL).delete(QUEUE, f"_kombu.binding.{QUEUE}")
        except Exception as exc:  # cleanup is best effort; the queue name is unique anyway
            log(f"could not delete the bench queue from Redis: {exc}")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
