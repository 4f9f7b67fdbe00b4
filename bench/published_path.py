"""The published endpoint path, before and after, in one session: runs/s, latency, overhead and CPU per run by process.

What a caller's software does (issue 16): ``POST /api/v1/flows/<slug>/run`` in sync mode, keep-alive HTTP,
``Authorization: Bearer <key>``, a distinct input per call (nothing from the cache). Two flows on a 100 ms
``bench/fake_openai.py`` model through litellm: ``chain3`` (input → 3 llm steps in a row → output, 300 ms of model
time on the critical path) and ``fanout3`` (input → a parallel node of 3 branches → output, 100 ms). For each
code tree and each flow, at 1, 8 and 64 concurrent clients: runs/s, p50/p95, errors, overhead per run at 1 client
(client wall − model time on the critical path), and CPU milliseconds per run of the web server, the Celery
worker(s), the PostgreSQL backends of the bench database and the Redis server (psutil over their pids). Also start
→ healthy (port open, /api/health/ ready, a first sync call answered), RSS of web + worker, runs/s of chain3 at 64 clients
with 1 and 2 worker processes, and optionally a py-spy profile of web and worker at 8 clients.

    .venv/bin/python bench/published_path.py --before /tmp/pb-before [--profile] [--no-write]

The harness (``--harness``, default ``new``) stays off the product's GIL and as light as it can: the fake model runs
in its own process on uvloop, each level's load comes from ``bench/loadgen.py`` (keep-alive HTTP/1.1 on uvloop, the
requests httpx would send) in a process of its own, and its own CPU per run (load generator, fake model, the CPU
sampler) is reported beside the product's. ``--harness old`` is the harness as it was (httpx and the fake in this
process); ``--harness both`` alternates the two on every level (``--harness-rounds``) and writes section
``bench_harness`` instead of ``published_path``.

``--before DIR`` is another checkout of the project (e.g. ``git archive <commit> | tar -x -C DIR``) whose
``backend/`` is served first, on the same database and Redis, in the same session; the current tree is served
after it. Without it, only the current tree is measured. The section written to bench/results.md shows both.
Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (BENCH_DATABASE_URL / BENCH_REDIS_URL).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import bench_workspace, machine, median, p95, table, today, write_section  # noqa: E402
from bench._stack import (  # noqa: E402
    Child,
    ensure_database,
    fake_model_child,
    free_port,
    stack_env,
    start_web,
    start_worker,
)
from bench.fake_openai import FakeConfig, start_in_thread  # noqa: E402
from bench.loadgen import Generator  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_published_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
WORKER_CONCURRENCY = 64
LATENCY_MS = 100.0
CRITICAL_MS = {"chain3": 3 * LATENCY_MS, "fanout3": LATENCY_MS}  # model time on each flow's critical path
OUT = ROOT / "bench" / "out"


def log(message: str) -> None:
    print(f"[published_path {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- flows and fixtures


def _llm(prompt: str) -> dict[str, Any]:
    return {"model": "bench100", "prompt": prompt, "params": {"temperature": 0.7}}


def flow_spec(shape: str) -> dict[str, Any]:
    inputs = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    if shape == "chain3":
        nodes: list[dict[str, Any]] = [{"id": "in", "type": "input"}]
        for i in (1, 2, 3):
            reads = "input.text" if i == 1 else f"nodes.s{i - 1}.output"
            nodes.append({"id": f"s{i}", "type": "llm", "config": _llm(f"Step {i}: improve {{{{ {reads} }}}}")})
        nodes.append({"id": "out", "type": "output", "config": {"value": "{{ nodes.s3.output }}"}})
        ids = ["in", "s1", "s2", "s3", "out"]
        edges = [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
    else:
        branches = [{"name": f"b{i}", "step": _llm(f"Part {i}: {{{{ input.text }}}}")} for i in (1, 2, 3)]
        nodes = [{"id": "in", "type": "input"}, {"id": "fan", "type": "parallel", "config": {"branches": branches}},
                 {"id": "out", "type": "output", "config": {"value": "{{ nodes.fan.output }}"}}]
        edges = [{"from": "in", "to": "fan"}, {"from": "fan", "to": "out"}]
    return {"schema": "patchbay.graph/v1", "name": f"bench {shape}", "inputs": inputs, "nodes": nodes,
            "edges": edges}


def setup_fixtures(model_url: str) -> str:
    """A user, the model alias, one published endpoint per flow, a key without a rate limit; returns the key."""
    import django

    django.setup()
    from django.db import connections

    from backend.endpoints.services import api_key_create, endpoint_create
    from backend.graphs.services import graph_create

    user, workspace = bench_workspace("bench-published", model_url)
    for shape in CRITICAL_MS:
        graph = graph_create(workspace=workspace, user=user, spec=flow_spec(shape), message="bench")
        endpoint_create(user=user, graph=graph, slug=f"bench-{shape}")
    _, key = api_key_create(user=user, workspace=workspace, name="bench", rate_limit_per_minute=None)
    connections.close_all()
    return key


# --------------------------------------------------------------------------- CPU by process


def _database_name() -> str:
    return urlparse(DATABASE_URL).path.lstrip("/")


class ProcessCpu:
    """CPU seconds of named process groups between ``start`` and ``stop``, sampled every 0.2 s.

    PostgreSQL backends come and go (connections are opened as pools grow), so the groups are found again at
    each sample; a backend that ends between two samples loses at most 0.2 s of its CPU. ``light`` (the new
    harness): each pid's group is decided once, from its name and command line, and only new pids are read again
    (a listing of /proc per sample) instead of every process's command line at every sample; the same processes
    are counted.
    """

    def __init__(self, fixed: dict[str, list[int]], light: bool = False):
        self.fixed, self.light = fixed, light
        self._groups: dict[int, str | None] = {}  # light: pid → its group (None: not counted)
        self._procs: dict[int, Any] = {}  # light: pid → psutil.Process
        self._first: dict[tuple[str, int], float] = {}
        self._last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sampler_s = 0.0  # CPU the sampling itself took (a cost of the harness, in the bench process)

    def _group(self, proc: Any) -> str | None:
        cmd = " ".join(proc.cmdline() or [])
        name = proc.name() or ""
        if name == "postgres" and cmd.startswith("postgres: ") and f" {_database_name()} " in cmd + " ":
            return "PostgreSQL"
        if name.startswith("redis-server") and ":6379" in cmd:
            return "Redis"
        return None

    def _light_members(self) -> list[tuple[str, Any]]:
        import psutil

        if not self._groups:
            for group, pids in self.fixed.items():
                for pid in pids:
                    self._groups[pid] = group
        found = []
        for pid in psutil.pids():
            if pid not in self._groups:
                try:
                    proc = psutil.Process(pid)
                    self._groups[pid] = self._group(proc)
                except Exception:
                    self._groups[pid] = None
                    continue
                if self._groups[pid]:
                    self._procs[pid] = proc
            group = self._groups[pid]
            if group is not None:
                if pid not in self._procs:
                    try:
                        self._procs[pid] = psutil.Process(pid)
                    except psutil.NoSuchProcess:
                        continue
                found.append((group, self._procs[pid]))
        return found

    def _members(self) -> list[tuple[str, Any]]:
        import psutil

        if self.light:
            return self._light_members()
        found = []
        for group, pids in self.fixed.items():
            for pid in pids:
                try:
                    found.append((group, psutil.Process(pid)))
                except psutil.NoSuchProcess:
                    pass
        database = f" {_database_name()} "
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                cmd = " ".join(proc.info["cmdline"] or [])
                if proc.info["name"] == "postgres" and cmd.startswith("postgres: ") and database in cmd + " ":
                    found.append(("PostgreSQL", proc))
                elif (proc.info["name"] or "").startswith("redis-server") and ":6379" in cmd:
                    found.append(("Redis", proc))
            except Exception:
                continue
        return found

    def _sample(self) -> None:
        for group, proc in self._members():
            try:
                times = proc.cpu_times()
            except Exception:
                continue
            used = times.user + times.system
            key = (group, proc.pid)
            self._first.setdefault(key, used if self._thread is None else 0.0)
            self._last[key] = used

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            started = time.thread_time()
            self._sample()
            self.sampler_s += time.thread_time() - started

    def start(self) -> None:
        self._sample()  # processes alive now count from now; later ones from their start
        self._thread = threading.Thread(target=self._loop, daemon=True, name="published-path-sampler")
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        started = time.thread_time()
        self._sample()
        self.sampler_s += time.thread_time() - started
        used: dict[str, float] = Counter()
        for key, last in self._last.items():
            used[key[0]] += last - self._first[key]
        return dict(used)


def rss_mib(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return (proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))) / 2**20


# --------------------------------------------------------------------------- load


async def level(http_url: str, key: str, slug: str, clients: int, per_client: int, tag: str) -> dict[str, Any]:
    """``clients`` keep-alive clients, each making ``per_client`` sync calls back to back."""
    import httpx

    samples: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=http_url, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 limits=limits) as client:

        async def one_client(index: int) -> None:
            for n in range(per_client):
                started = time.perf_counter()
                try:
                    response = await client.post(f"/api/v1/flows/{slug}/run",
                                                 json={"input": {"text": f"{tag} {index} {n} {time.time()}"}})
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                body = response.json() if response.headers.get("content-type", "").startswith(
                    "application/json") else {}
                if response.status_code != 200 or body.get("status") != "succeeded":
                    failures.append(f"{response.status_code} {body.get('status')} {body.get('error')}")
                    continue
                samples.append(elapsed)

        wall_started = time.perf_counter()
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        wall = time.perf_counter() - wall_started
    return {"clients": clients, "requests": clients * per_client, "ok": len(samples), "failures": failures,
            "wall": wall, "samples": samples}


class OldHarness:
    """The harness as it was (``--harness old``): the fake model in a thread of this process (``start_in_thread``,
    asyncio) and the load from httpx in this process's main thread, sharing one GIL and this process's CPU."""

    name = "old"

    def __init__(self) -> None:
        self.fake = start_in_thread(FakeConfig(latency_ms=LATENCY_MS), port=free_port())
        self.model_url = self.fake.url

    def prepare(self, url: str, key: str, slug: str, clients: int, per_client: int,
                tag: str) -> Callable[[], dict[str, Any]]:
        """A level ready to run: calling it runs it; its result has ``harness_cpu`` (s by part of the harness)."""

        def run() -> dict[str, Any]:
            import psutil

            me = psutil.Process()
            fake_thread = self.fake._thread.native_id
            sampler = next((t.native_id for t in threading.enumerate() if t.name == "published-path-sampler"), None)

            def times() -> tuple[float, dict[int, float]]:
                total = me.cpu_times()
                return total.user + total.system, {t.id: t.user_time + t.system_time for t in me.threads()}

            total_before, threads_before = times()
            result = asyncio.run(level(url, key, slug, clients, per_client, tag))
            total_after, threads_after = times()

            def of(thread: int | None) -> float:
                return threads_after.get(thread or -1, 0.0) - threads_before.get(thread or -1, 0.0)

            fake_s, sampler_s = of(fake_thread), of(sampler)
            result["harness_cpu"] = {"load generator": total_after - total_before - fake_s - sampler_s,
                                     "fake model": fake_s}
            return result

        return run

    def stop(self) -> None:
        self.fake.stop()


class NewHarness:
    """The light harness (``--harness new``): the fake model in its own process on uvloop, and each level's load
    from ``bench/loadgen.py`` (a minimal keep-alive HTTP/1.1 client on uvloop) in a process of its own, started
    and ready (imports done) before the level is timed. Same requests, same checks, same per-call latency."""

    name = "new"

    def __init__(self) -> None:
        self.fake, self.model_url = fake_model_child("--latency-ms", f"{LATENCY_MS:g}", "--uvloop")

    def _fake_cpu(self) -> float:
        import psutil

        times = psutil.Process(self.fake.process.pid).cpu_times()
        return times.user + times.system

    def prepare(self, url: str, key: str, slug: str, clients: int, per_client: int,
                tag: str) -> Callable[[], dict[str, Any]]:
        generator = Generator()

        def run() -> dict[str, Any]:
            fake_before = self._fake_cpu()
            try:
                result = generator.run(url=url, key=key, slug=slug, clients=clients, per_client=per_client, tag=tag)
            finally:
                generator.close()
            result["harness_cpu"] = {"load generator": result.pop("cpu_s"), "fake model": self._fake_cpu() - fake_before}
            return result

        return run

    def stop(self) -> None:
        self.fake.stop()


Harness = OldHarness | NewHarness
HARNESSES: dict[str, type[Harness]] = {"old": OldHarness, "new": NewHarness}


def use_model(url: str) -> None:
    """Point the ``bench100`` alias at ``url`` (the fake model of the harness about to run) and tell every
    process's route cache at once."""
    from django.db import connections

    from backend.providers.models import ModelAlias
    from backend.providers.registry import bump_registry_version

    ModelAlias.objects.filter(alias="bench100").update(api_base=url)
    bump_registry_version()
    connections.close_all()


class Stack:
    """Web server + worker(s) of one code tree, on the bench database and Redis."""

    def __init__(self, code: Path, server_kind: str, workers: int, tag: str):
        self.code, self.server_kind, self.tag = code, server_kind, tag
        self.data_dir = tempfile.mkdtemp(prefix="patchbay-bench-published-")
        self.queue = f"patchbay-bench-published-{os.getpid()}-{tag}"
        env = stack_env(DATABASE_URL, REDIS_URL, self.queue, self.data_dir)
        env["PYTHONPATH"] = str(code)
        self.env = env
        self.workers: list[Child] = []
        self.started = time.perf_counter()
        for i in range(workers):
            self.add_worker(i)
        self.web, self.port = start_web(env, code, server_kind)
        self.listening_s = time.perf_counter() - self.started
        self.url = f"http://127.0.0.1:{self.port}"

    def add_worker(self, index: int) -> None:
        hostname = f"bench-published-{os.getpid()}-{self.tag}-{index}@{socket.gethostname()}"
        self.workers.append(start_worker(self.env, hostname, WORKER_CONCURRENCY, self.code,
                                         name=f"worker {index}"))

    def children(self) -> list[Child]:
        return [*self.workers, self.web]

    def cpu(self, light: bool = False) -> ProcessCpu:
        return ProcessCpu({"web": [self.web.process.pid], "worker": [w.process.pid for w in self.workers]}, light)

    def stop(self) -> None:
        for child in reversed(self.children()):
            child.stop()
        OUT.mkdir(exist_ok=True)
        for child in self.children():
            (OUT / f"published_path-{self.tag}-{child.name.replace(' ', '-')}.log").write_text(
                "\n".join(child.lines) + "\n")
        try:
            import redis

            redis.Redis.from_url(REDIS_URL).delete(self.queue, f"_kombu.binding.{self.queue}")
        except Exception as exc:
            log(f"could not delete the bench queue: {exc}")
        shutil.rmtree(self.data_dir, ignore_errors=True)


def counters() -> tuple[int, int]:
    """Committed transactions of the bench database, and commands Redis processed (all its users)."""
    import redis

    found = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc",
                            f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{_database_name()}'"],
                           capture_output=True, text=True, check=True).stdout.strip()
    commands = redis.Redis.from_url(REDIS_URL).info("stats")["total_commands_processed"]
    return int(found or 0), int(commands)


def measured_level(stack: Stack, key: str, shape: str, clients: int, per_client: int,
                   harness: Harness) -> dict[str, Any]:
    pending = harness.prepare(stack.url, key, f"bench-{shape}", clients, per_client, f"{stack.tag}-{shape}")
    meter = stack.cpu(light=harness.name == "new")
    before = counters()
    meter.start()
    result = pending()
    result["cpu"] = meter.stop()
    result["harness"], result["sampler_s"] = harness.name, meter.sampler_s
    time.sleep(0.7)  # pg_stat_database is flushed by backends at most every 500 ms
    after = counters()
    result["xacts"], result["redis_commands"] = after[0] - before[0], after[1] - before[1]
    result["shape"] = shape
    s = result["samples"]
    log(f"  {stack.tag} {shape} × {clients}: {result['ok']}/{result['requests']} ok, "
        f"{result['ok'] / result['wall']:.1f} runs/s, p50 {median(s) * 1000:.0f} ms, p95 {p95(s) * 1000:.0f} ms, "
        f"harness {harness.name} CPU {sum(result['harness_cpu'].values()) * 1000 / max(1, result['ok']):.2f} ms/run"
        if s else f"  {stack.tag} {shape} × {clients}: no successful call ({result['failures'][:2]})")
    return result


def profile(stack: Stack, key: str, seconds: int, clients: int,
            harness: Harness) -> dict[str, list[tuple[str, float]]]:
    """py-spy on web and worker while ``clients`` clients call chain3; top frames by share of busy samples."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    OUT.mkdir(exist_ok=True)
    targets = {"web": stack.web.process.pid, "worker": stack.workers[0].process.pid}
    recorders = {}
    for name, pid in targets.items():
        out = OUT / f"profile-{stack.tag}-{name}.txt"
        recorders[name] = (out, subprocess.Popen([py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200",
                                                  "-f", "raw", "-o", str(out), "--nonblocking", "--gil"],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    per_client = max(4, int(seconds * 30 / clients))
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        harness.prepare(stack.url, key, "bench-chain3", clients, per_client, f"{stack.tag}-profile")()
    summaries = {}
    for name, (out, recorder) in recorders.items():
        recorder.wait(timeout=seconds + 30)
        summaries[name] = areas(out) + [("—", 0.0)] + top_frames(out, 10)
    return summaries


# Frames that only say "a loop, a thread or a server is running": nearly every sample has them.
_PLUMBING = ("threading.py", "asyncio/", "concurrent/futures", "asgiref/", "uvicorn/", "daphne/", "twisted/",
             "celery/", "click/", "kombu/", "<frozen runpy>", "anyio/", "django/core/handlers/",
             "django/utils/deprecation.py", "selectors.py", "<module>")


# Where samples went, by the code they were in (a sample counts for every area on its stack).
AREAS = {
    "litellm + openai client (model calls)": ("litellm/", "openai/"),
    "Django ORM + psycopg (PostgreSQL)": ("django/db/", "psycopg/"),
    "redis-py + channels_redis (Redis)": ("redis/", "channels_redis/"),
    "event sink (runs/sinks.py)": ("backend/runs/sinks.py",),
    "engine (backend/engine)": ("backend/engine/",),
    "flow views (endpoints/flow_views.py)": ("backend/endpoints/flow_views.py",),
    "key + endpoint lookup": ("backend/endpoints/auth.py", "backend/endpoints/call_cache.py",
                              "endpoint_for_call"),
    "run creation (flow_call_start)": ("flow_call_start",),
    "waiting for the run (follow / run waiter)": ("backend/runs/follow.py", "backend/runs/run_waiter.py",
                                                  "backend/endpoints/follow.py"),
    "HTTP protocol + Django request handling": ("uvicorn/protocols/", "daphne/http_protocol", "daphne/server",
                                                "twisted/web/", "twisted/internet/tcp", "django/core/handlers/",
                                                "django/http/", "django/utils/deprecation.py"),
}


def collapsed(path: Path) -> list[tuple[str, int]]:
    """(stack, samples) per line of py-spy's collapsed output; none when the profile was not taken."""
    if not path.exists():
        return []
    rows = (line.rpartition(" ") for line in path.read_text().splitlines())
    return [(stack, int(count)) for stack, _, count in rows if count.isdigit()]


def areas(path: Path) -> list[tuple[str, float]]:
    counts: Counter[str] = Counter()
    total = 0
    for stack, count in collapsed(path):
        total += count
        for area, needles in AREAS.items():
            if any(needle in stack for needle in needles):
                counts[area] += count
    return [(area, counts[area] / total) for area in AREAS] if total else []


def top_frames(path: Path, n: int = 16) -> list[tuple[str, float]]:
    """Inclusive share of samples per function (``name (file)``), from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    total = 0
    for stack, count in collapsed(path):
        total += count
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(":")[0].strip()  # "fn (path/to/file.py" without the line number
            short = name.replace(str(ROOT) + "/", "")
            short = short.split("site-packages/")[-1] if "site-packages/" in short else short
            if short not in seen:
                seen.add(short)
                inclusive[short] += count
    frames = [(frame + ")", count / total) for frame, count in inclusive.most_common()
              if not any(p in frame for p in _PLUMBING)]
    return frames[:n] if total else []


def wait_healthy(stack: Stack, timeout: float = 90.0) -> float | None:
    """Seconds from the start until ``GET /api/health/`` answers 200 (web, database, Redis and a worker ready);
    None for a tree without a health endpoint (its first answered call is all there is). A child that exits
    while we wait ends the wait with its last lines."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline:
            for child in stack.children():
                if not child.alive():
                    raise RuntimeError(f"{stack.tag}: {child.name} exited:\n{child.tail()}")
            try:
                status = client.get(f"{stack.url}/api/health/").status_code
            except httpx.HTTPError:
                status = 0
            if status == 200:
                return time.perf_counter() - stack.started
            if status == 404:
                return None
            time.sleep(0.05)
    raise RuntimeError(f"{stack.tag}: not healthy after {timeout} s")


def bench_environment() -> dict[str, str]:
    """The bench database (created and migrated) and Redis, in this process's environment too; the stack's env."""
    env = stack_env(DATABASE_URL, REDIS_URL, "unused", tempfile.gettempdir())
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE",
                                           "LOG_LEVEL")})
    ensure_database(DATABASE_URL, log)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def run_tree(tag: str, code: Path, server_kind: str, key: str, args: argparse.Namespace,
             harnesses: list[Harness], step: bool = False) -> dict[str, Any]:
    """Start one tree's stack, measure it, stop it. A ``step`` (an intermediate commit) gets chain3 at 8 and 64
    clients only, no scale-out level and no profile. With two harnesses (``--harness both``), each level runs
    ``--harness-rounds`` times per harness, the harnesses alternating (the model alias moved to each one's fake,
    then warmed); everything else uses the last one."""
    main_harness = harnesses[-1]
    log(f"{tag}: starting {server_kind} + 1 worker from {code}")
    use_model(main_harness.model_url)
    stack = Stack(code, server_kind, 1, tag)
    serving: list[Harness] = [main_harness]

    def switch(harness: Harness) -> None:
        if serving[0] is not harness:
            use_model(harness.model_url)
            for shape in CRITICAL_MS:
                harness.prepare(stack.url, key, f"bench-{shape}", 8, 2, f"{tag}-switch")()
            serving[0] = harness

    try:
        ready_s = wait_healthy(stack)
        rested_rss = {"web": rss_mib(stack.web.process.pid), "worker": rss_mib(stack.workers[0].process.pid)}
        first = main_harness.prepare(stack.url, key, "bench-chain3", 1, 1, f"{tag}-first")()
        healthy_s = time.perf_counter() - stack.started
        if first["failures"]:
            raise RuntimeError(f"{tag}: the first call failed: {first['failures']}")
        for harness in harnesses:
            switch(harness)
            for shape in CRITICAL_MS:  # warm both flows and every pool
                harness.prepare(stack.url, key, f"bench-{shape}", 8, 3, f"{tag}-warm")()
        time.sleep(2)
        idle_rss = {"web": rss_mib(stack.web.process.pid), "worker": rss_mib(stack.workers[0].process.pid)}
        levels = []
        for shape in (["chain3"] if step else args.shapes):
            for clients in ([8, 64] if step else args.levels):
                per_client = max(args.per_client, -(-args.min_requests // clients))
                for _ in range(args.harness_rounds if len(harnesses) > 1 else 1):
                    for harness in harnesses:
                        switch(harness)
                        levels.append(measured_level(stack, key, shape, clients, per_client, harness))
        switch(main_harness)
        scale = {}
        if args.scale and not step:
            scale[1] = next((r for r in levels if r["shape"] == "chain3" and r["clients"] == 64
                             and r["harness"] == main_harness.name), None)
            stack.add_worker(1)
            time.sleep(4)  # the second worker connects to the broker
            main_harness.prepare(stack.url, key, "bench-chain3", 16, 2, f"{tag}-warm2")()
            scale[2] = measured_level(stack, key, "chain3", 64, max(args.per_client, -(-args.min_requests // 64)),
                                      main_harness)
        profiles = profile(stack, key, args.profile, 8, main_harness) if args.profile and not step else {}
        for child in stack.children():
            if not child.alive():
                raise RuntimeError(f"{tag}: {child.name} died:\n{child.tail()}")
        return {"tag": tag, "server": server_kind, "listening_s": stack.listening_s, "healthy_s": healthy_s,
                "ready_s": ready_s, "ready_rss": rested_rss, "idle_rss": idle_rss, "levels": levels, "scale": scale, "profiles": profiles}
    except BaseException:
        for child in stack.children():
            print(f"--- last output of {child.name} ---\n{child.tail()}", file=sys.stderr)
        raise
    finally:
        stack.stop()


# --------------------------------------------------------------------------- report


def _row(tree: dict[str, Any], r: dict[str, Any]) -> list[Any]:
    s, ok = r["samples"], max(1, r["ok"])
    cpu = r["cpu"]
    overhead = f"{median(s) * 1000 - CRITICAL_MS[r['shape']]:.0f}" if s and r["clients"] == 1 else ""
    return [tree["tag"], r["shape"], r["clients"], r["ok"], len(r["failures"]), f"{r['ok'] / r['wall']:.1f}",
            f"{median(s) * 1000:.0f}" if s else "n/a", f"{p95(s) * 1000:.0f}" if s else "n/a", overhead,
            *(f"{cpu.get(g, 0) / ok * 1000:.1f}" for g in ("web", "worker", "PostgreSQL", "Redis")),
            f"{sum(cpu.values()) / ok * 1000:.1f}", f"{r['xacts'] / ok:.0f}", f"{r['redis_commands'] / ok:.0f}",
            *_harness_cells(r)]


def _harness_cells(r: dict[str, Any]) -> list[str]:
    """The harness of a level and its own CPU ms per run: load generator, fake model, CPU sampler."""
    spent, ok = r.get("harness_cpu"), max(1, r["ok"])
    if spent is None:  # a result saved before the harness was counted
        return ["old", "", "", ""]
    return [r["harness"], f"{spent['load generator'] / ok * 1000:.2f}", f"{spent['fake model'] / ok * 1000:.2f}",
            f"{r['sampler_s'] / ok * 1000:.2f}"]


def report(trees: list[dict[str, Any]], args: argparse.Namespace, load_before: tuple[float, ...],
           load_after: tuple[float, ...], total_s: float) -> str:
    rows = [_row(tree, r) for shape in args.shapes for clients in args.levels for tree in trees
            for r in tree["levels"] if r["shape"] == shape and r["clients"] == clients]
    ends = [trees[0], trees[-1]] if len(trees) > 2 else trees
    ratios = []
    if len(ends) == 2:
        for a in ends[0]["levels"]:
            b = next(r for r in ends[1]["levels"] if r["shape"] == a["shape"] and r["clients"] == a["clients"]
                     and r["harness"] == a["harness"])
            if any(r is not a and r["shape"] == a["shape"] and r["clients"] == a["clients"]
                   and r["harness"] == a["harness"] for r in ends[0]["levels"][:ends[0]["levels"].index(a)]):
                continue  # a later round of the same level: the ratio compares the first rounds
            if a["samples"] and b["samples"]:
                cpu_a = sum(a["cpu"].values()) / max(1, a["ok"])
                cpu_b = sum(b["cpu"].values()) / max(1, b["ok"])
                ratios.append([a["shape"], a["clients"], f"{(b['ok'] / b['wall']) / (a['ok'] / a['wall']):.2f}×",
                               f"{median(b['samples']) / median(a['samples']):.2f}×",
                               f"{p95(b['samples']) / p95(a['samples']):.2f}×", f"{cpu_b / cpu_a:.2f}×"])
    start_rows = [[t["tag"], t["server"], f"{t['listening_s']:.1f}",
                   "—" if t.get("ready_s") is None else f"{t['ready_s']:.1f}", f"{t['healthy_s']:.1f}",
                   "—" if "ready_rss" not in t else f"{sum(t['ready_rss'].values()):.0f}",
                   f"{t['idle_rss']['web']:.0f}", f"{t['idle_rss']['worker']:.0f}",
                   f"{sum(t['idle_rss'].values()):.0f}"] for t in ends]
    scale_rows = []
    for t in trees:
        for n, r in sorted(t["scale"].items()):
            if r is not None:
                scale_rows.append([t["tag"], n, f"{r['ok'] / r['wall']:.1f}", len(r["failures"]),
                                   f"{p95(r['samples']) * 1000:.0f}" if r["samples"] else "n/a"])
    profile_text = ""
    for t in trees:
        for process, frames in t["profiles"].items():
            cut = next((i for i, (frame, _) in enumerate(frames) if frame == "—"), len(frames))
            by_area = " · ".join(f"{area} {share * 100:.0f} %" for area, share in frames[:cut] if share >= 0.005)
            lines = "\n".join(f"| {share * 100:.0f} % | `{frame}` |" for frame, share in frames[cut + 1:])
            profile_text += (f"\n**{t['tag']} — {process}** (py-spy `--gil`, 200 Hz, {args.profile} s at 8 clients on "
                             f"chain3: samples of the thread holding the GIL, i.e. Python CPU; a sample counts for "
                             f"every area and frame on its stack). By area: {by_area}.\n\n| share | top frames "
                             f"(plumbing left out) |\n|---|---|\n{lines}\n")
    failures = "; ".join(sorted({f for t in trees for r in t["levels"] for f in r["failures"]})[:5]) or "none"
    return f"""## Published endpoint path, before and after (`bench/published_path.py`, issue 16)

Sync calls to a published endpoint (`POST /api/v1/flows/<slug>/run`, Bearer key, keep-alive HTTP, distinct inputs)
on `bench/fake_openai.py` at {LATENCY_MS:g} ms per model call, through litellm. `chain3`: input → 3 llm steps →
output ({CRITICAL_MS['chain3']:g} ms of model time on the critical path); `fanout3`: a parallel node of 3 branches
({CRITICAL_MS['fanout3']:g} ms). Each tree runs web server + one Celery worker (threads, {WORKER_CONCURRENCY}) on
the same PostgreSQL database and Redis, one after the other in this one session:
{'; '.join(f"**{t['tag']}** = {t['server']}" for t in trees)}. Overhead = client wall at 1 client − model time on
the critical path. CPU ms per run: CPU time used during the level by the web server, the worker, the PostgreSQL
backends of the bench database and the Redis server (shared with other users of the machine: read it at low
load), divided by successful runs. The harness is not counted in them; its own CPU per run is in the last columns (see
`bench_harness`): **old** = httpx load and the fake model (a thread, asyncio) in the bench process, **new** = the
fake model in its own process on uvloop and the load from `bench/loadgen.py` (keep-alive HTTP/1.1 on uvloop) in a
process of its own per level; "sampler" = the psutil sampling of these CPU columns (bench process).

Conditions: {machine()}; {today()}; load average at the end {load_after[0]:.2f} {load_after[1]:.2f}
{load_after[2]:.2f} (at the start {load_before[0]:.2f}); whole script {total_s:.0f} s. Failures seen: {failures}.

{table(["tree", "flow", "clients", "ok", "errors", "runs/s", "p50 ms", "p95 ms", "overhead ms (1 client)",
        "CPU ms/run web", "worker", "PostgreSQL", "Redis", "total", "transactions/run",
        "Redis commands/run", "harness", "harness CPU ms/run load generator", "fake model", "sampler"], rows)}

{table(["flow", "clients", "runs/s after/before", "p50 after/before", "p95 after/before",
        "CPU per run after/before"], ratios) if ratios else ""}

Start → healthy: web port open; `GET /api/health/` answers 200 (web, database, Redis and a worker that said it
takes tasks; "—" for a tree without it); the first sync call of chain3, sent then, answered (it waits for the
worker's models, loaded in the background after it is ready). RSS (MiB, with child processes) of web + worker
when healthy, before any run, and idle RSS after warm-up (`bench/start_idle.py` measures each at rest):

{table(["tree", "web server", "port open s", "healthy s", "first run answered s", "web + worker RSS at healthy",
        "web RSS after warm-up", "worker RSS", "web + worker"], start_rows)}

Scale-out on this machine: chain3 at 64 clients with 1 and 2 worker processes (one web process):

{table(["tree", "worker processes", "runs/s", "errors", "p95 ms"], scale_rows) if scale_rows else "(not run)"}
{profile_text}"""


def harness_report(trees: list[dict[str, Any]], args: argparse.Namespace, load_before: tuple[float, ...],
                   load_after: tuple[float, ...]) -> str:
    """``--harness both``: per tree, flow and clients, the two harnesses over their rounds (runs/s = all successful
    runs / all wall; p50/p95 of all samples; CPU per run = all CPU / all successful runs)."""
    rows = []
    for tree in trees:
        for shape in args.shapes:
            for clients in args.levels:
                for name in ("old", "new"):
                    rs = [r for r in tree["levels"] if r["shape"] == shape and r["clients"] == clients
                          and r["harness"] == name]
                    samples = [x for r in rs for x in r["samples"]]
                    ok = max(1, sum(r["ok"] for r in rs))
                    if not samples:
                        continue

                    def per_run(values: list[float], ok: int = ok) -> str:
                        return f"{sum(values) / ok * 1000:.2f}"

                    rows.append([tree["tag"], shape, clients, name, len(rs), ok,
                                 sum(len(r["failures"]) for r in rs),
                                 f"{ok / sum(r['wall'] for r in rs):.1f}",
                                 " / ".join(f"{r['ok'] / r['wall']:.1f}" for r in rs),
                                 f"{median(samples) * 1000:.0f}", f"{p95(samples) * 1000:.0f}",
                                 per_run([r["harness_cpu"]["load generator"] for r in rs]),
                                 per_run([r["harness_cpu"]["fake model"] for r in rs]),
                                 per_run([r["sampler_s"] for r in rs]),
                                 per_run([sum(r["cpu"].values()) for r in rs])])
    return f"""## The measurement harness of the published path, old and new (`bench/published_path.py --harness both`, issue 16)

The same product tree, stack and requests (`POST /api/v1/flows/<slug>/run`, sync, keep-alive, Bearer key, distinct
inputs; the fake model at {LATENCY_MS:g} ms per call), measured with the two harnesses alternating on every level,
{args.harness_rounds} rounds each (the `bench100` alias moved to the fake of the harness about to run, then warmed).
**old**: the load from httpx (`AsyncClient`) in the bench process's main thread and `bench/fake_openai.py` in a
thread of the same process (`start_in_thread`, asyncio): one GIL, on the product's 2 cores. **new**: the fake
model standalone in its own process on uvloop (`fake_openai.py --uvloop`), and each level's load from
`bench/loadgen.py` in a process of its own (a minimal keep-alive HTTP/1.1 client on uvloop, started and ready
before the level: the same request bytes as httpx's, a non-200 or a body whose status is not "succeeded" is an
error). Harness CPU per run: the load generator (old: the bench process minus the fake's thread and the sampler's;
new: its process's CPU during the level), the fake model (old: its thread; new: its process), and the psutil sampler
of the product's CPU columns, every 0.2 s in the bench process (old: every process's name and command line read at
every sample; new: read once per pid, then only new pids; the same processes counted). Product CPU = web + worker +
PostgreSQL + Redis as in `published_path`, per successful run.

Conditions: {machine().split(", load average")[0]}; {today()}; load average at the start {load_before[0]:.2f}
{load_before[1]:.2f} {load_before[2]:.2f}, at the end {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}.

{table(["tree", "flow", "clients", "harness", "rounds", "ok", "errors", "runs/s", "runs/s by round", "p50 ms",
        "p95 ms", "harness CPU ms/run load generator", "fake model", "sampler", "product CPU ms/run"], rows)}"""


# --------------------------------------------------------------------------- main


def alternating(before: Path, before_server: str, key: str, args: argparse.Namespace,
                harness: Harness) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    """Both trees' stacks up at once, each level measured on one then the other, the order flipped every round
    (ABBA...): the machine's drift over the run (this bench's one-tree-after-the-other rows read the second
    tree ~10-15 % slower at 64 clients on some runs) hits both trees alike. Returns every round's level."""
    stacks = {"before": Stack(before, before_server, 1, "alt-before"), "after": Stack(ROOT, args.server, 1, "alt-after")}
    got: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    try:
        for stack in stacks.values():
            wait_healthy(stack)
            for shape in CRITICAL_MS:
                harness.prepare(stack.url, key, f"bench-{shape}", 8, 3, f"{stack.tag}-warm")()
        for round_no in range(args.alternate):
            order = ["before", "after"] if round_no % 2 == 0 else ["after", "before"]
            for shape in args.shapes:
                for clients in [c for c in args.levels if c > 1]:
                    per_client = max(args.per_client, -(-args.min_requests // clients))
                    for tag in order:
                        level_got = measured_level(stacks[tag], key, shape, clients, per_client, harness)
                        got.setdefault((tag, shape, clients), []).append(level_got)
    finally:
        for stack in stacks.values():
            stack.stop()
    return got


def alternating_report(got: dict[tuple[str, str, int], list[dict[str, Any]]], args: argparse.Namespace) -> str:
    rows = []
    for shape in args.shapes:
        for clients in [c for c in args.levels if c > 1]:
            per = {}
            for tag in ("before", "after"):
                levels = got[(tag, shape, clients)]
                rates = [r["ok"] / r["wall"] for r in levels]
                cpus = [sum(r["cpu"].values()) / max(1, r["ok"]) * 1000 for r in levels]
                workers = [r["cpu"].get("worker", 0) / max(1, r["ok"]) * 1000 for r in levels]
                errors = sum(len(r["failures"]) for r in levels)
                per[tag] = (median(rates), median(cpus), median(workers), rates, errors)
            b, a = per["before"], per["after"]
            rows.append([shape, clients, " / ".join(f"{x:.1f}" for x in b[3]), " / ".join(f"{x:.1f}" for x in a[3]),
                         f"{a[0] / b[0]:.2f}×", f"{b[1]:.1f} → {a[1]:.1f}", f"{b[2]:.1f} → {a[2]:.1f}",
                         f"{b[4]} / {a[4]}"])
    return (f"Trees alternating on one machine state (`--alternate {args.alternate}`: both stacks up, each level on "
            f"one tree then the other, the order flipped every round; one worker process each):\n\n"
            + table(["flow", "clients", "runs/s before (each round)", "runs/s after (each round)",
                     "runs/s after/before (medians)", "CPU ms/run web+worker+PostgreSQL+Redis (medians)",
                     "of which worker", "errors before / after"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout, measured first (the baseline)")
    parser.add_argument("--before-server", default="daphne", choices=["daphne", "uvicorn"])
    parser.add_argument("--server", default="uvicorn", choices=["daphne", "uvicorn"])
    parser.add_argument("--levels", default="1,8,64")
    parser.add_argument("--shapes", default="chain3,fanout3")
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--min-requests", type=int, default=40)
    parser.add_argument("--no-scale", dest="scale", action="store_false", help="skip the 2-worker level")
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy at 8 clients (0: none)")
    parser.add_argument("--step", action="append", default=[], metavar="NAME=DIR[:server]",
                        help="an intermediate checkout, measured between --before and this tree (repeatable)")
    parser.add_argument("--only-before", action="store_true", help="measure only the --before tree")
    parser.add_argument("--harness", default="new", choices=["old", "new", "both"],
                        help="old: fake model and httpx load in this process; new: each in its own process on "
                             "uvloop; both: the two alternating on every level (writes section bench_harness)")
    parser.add_argument("--harness-rounds", type=int, default=3, help="with --harness both: rounds per level")
    parser.add_argument("--alternate", type=int, default=0, metavar="N",
                        help="with --before: also N rounds of the levels above 1 client with both trees' stacks up, "
                             "trees alternating (ABBA), in a table of their own")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(",")]
    args.shapes = [s for s in args.shapes.split(",") if s]

    started, load_before = time.perf_counter(), os.getloadavg()
    bench_environment()
    harnesses: list[Harness] = []
    try:
        for name in (["old", "new"] if args.harness == "both" else [args.harness]):
            harnesses.append(HARNESSES[name]())
        key = setup_fixtures(harnesses[-1].model_url)
        trees = []
        if args.before:
            trees.append(run_tree("before", args.before.resolve(), args.before_server, key, args, harnesses))
        for spec in args.step:
            name, _, where = spec.partition("=")
            directory, _, server_kind = where.partition(":")
            trees.append(run_tree(name, Path(directory).resolve(), server_kind or args.server, key, args,
                                  harnesses, step=True))
        if not args.only_before:
            trees.append(run_tree("after", ROOT, args.server, key, args, harnesses))
        alternated = (alternating(args.before.resolve(), args.before_server, key, args, harnesses[-1])
                      if args.before and args.alternate else None)
    finally:
        for harness in harnesses:
            harness.stop()
    OUT.mkdir(exist_ok=True)
    (OUT / "published_path.json").write_text(json.dumps(trees, default=str))
    body = report(trees, args, load_before, os.getloadavg(), time.perf_counter() - started)
    if args.harness == "both":
        body = harness_report(trees, args, load_before, os.getloadavg()) + "\n\n" + body
    if alternated:
        body += "\n\n" + alternating_report(alternated, args)
    print(body)
    if not args.no_write:
        write_section("bench_harness" if args.harness == "both" else "published_path", body)


if __name__ == "__main__":
    main()
