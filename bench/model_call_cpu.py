"""CPU per model call in the worker: ``LiteLLMGateway`` as a run uses it, against the fake model over real HTTP.

Each measured call is what a run's LLM step costs the worker: the budget estimate (``estimate_cost``), then
``complete`` with ``stream=True`` as a published endpoint's sync run asks it (the deltas check says nobody reads
live, so the answer comes whole), the route from the real registry (Redis version GET, PostgreSQL on a miss), the
real circuit breaker (a closed one: one EVAL per call) and litellm → the openai client → `bench/fake_openai.py`
(0 ms latency, its own process, so its CPU is not counted). ``--concurrency`` calls at a time on one event loop.

CPU µs per call = this process's CPU time (user + system) over the measured calls / calls, after a warm-up.
Trees alternate, each in a fresh child process, ``--rounds`` times, so the machine's load hits both alike.

    .venv/bin/python bench/model_call_cpu.py [--before /tmp/llm-base] [--calls 600] [--concurrency 8]
                                             [--rounds 3] [--profile] [--no-write]

``--before``: a second tree (``git archive <commit> | tar -x -C /tmp/x``) measured the same way.
``--profile``: one extra pass of each tree under py-spy: where its CPU goes, by area.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/ is this script's directory, first on the path in the parent and in every tree's child alike.
from _common import call_bench_parser

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
ALIAS = "bench-call-cpu"
WARMUP = 40
# A run without a time budget (as bench/published_path.py's flows), and one with max_seconds, whose calls each
# get what is left of it (here less than the route's timeout) as their deadline.
VARIANTS = ("no_time_budget", "max_seconds")

# Areas of a py-spy profile: a sample goes to the innermost frame whose file matches one (first match wins).
AREAS = [
    ("redis client (registry GET, breaker EVAL, deltas MGET)", ("redis/",)),
    ("litellm token counting (the budget estimate)", ("token_counter", "tiktoken")),
    ("litellm cost calculation", ("cost_calculator", "llm_cost_calc")),
    ("HTTP: httpx + litellm's aiohttp transport + aiohttp", ("httpx/", "aiohttp", "aiohappyeyeballs", "yarl/",
                                                             "multidict/")),
    ("openai SDK (request building, response parsing)", ("openai/_", "openai/resources")),
    # What the openai SDK does on the openai/ path, litellm's own handler does on hosted_vllm/ (gateway.litellm_model).
    # py-spy names these files without their folder.
    ("litellm's own HTTP handler + OpenAI request/response transform", ("llm_http_handler.py", "http_handler.py",
                                                                       "gpt_transformation.py", "hosted_vllm/")),
    ("litellm Logging object + success handler", ("litellm_logging", "logging_utils", "logging_worker")),
    ("litellm response objects", ("convert_dict_to_response", "types/utils")),
    ("litellm (the rest: wrapper, function_setup, params, metadata)", ("litellm/",)),
    ("pydantic", ("pydantic",)),
    ("our gateway, registry, breaker", ("backend/",)),
]


def log(message: str) -> None:
    print(f"[model_call_cpu {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the child: one tree, one process


def child(root: Path, fake_url: str, calls: int, concurrency: int) -> dict[str, Any]:
    from _common import django_with_fake_alias  # this script's folder is first on the path

    django_with_fake_alias(root, tag="callcpu", database_url=DATABASE_URL, redis_url=REDIS_URL, fake_url=fake_url,
                           alias=ALIAS)
    from backend.providers.warm import load_models

    load_models()
    return asyncio.run(_measure(calls, concurrency))


async def _measure(calls: int, concurrency: int) -> dict[str, Any]:
    import uuid

    from backend.engine.ports import LLMRequest
    from backend.providers.gateway import LiteLLMGateway, litellm_module
    from backend.providers.registry import resolve_route
    from backend.runs.live_deltas import deltas_wanted_check

    # As a published endpoint's sync run: source "endpoint", nobody asked for deltas.
    gateway = LiteLLMGateway(resolve_route, stream_when=deltas_wanted_check(uuid.uuid4(), "endpoint", "req-bench"))
    counter = iter(range(10**9))

    time_left: float | None = None

    async def one() -> None:
        n = next(counter)
        request = LLMRequest(ALIAS, [{"role": "system", "content": "You are a concise assistant."},
                                     {"role": "user", "content": f"Summarise ticket {n}: the printer on floor "
                                                                 f"{n % 7} jams when printing double-sided."}],
                             params={"max_tokens": 200}, stream=True)
        if time_left is not None:
            # A run with max_seconds: the engine hands each call what is left of it (runtime.call_llm).
            request.timeout_s = time_left - n * 0.001
        estimate = await gateway.estimate_cost(request)
        result = await gateway.complete(request, lambda text, attempt: None)
        assert result.text and result.cost_usd > 0 and estimate > 0 and result.input_tokens > 0, result

    async def batch(n: int) -> None:
        left = iter(range(n))

        async def lane() -> None:
            for _ in left:
                await one()

        await asyncio.gather(*(lane() for _ in range(concurrency)))

    await batch(WARMUP)
    out: dict[str, Any] = {}
    for variant in VARIANTS:
        # Less left than the route's 30 s timeout: the attempt's deadline is the run's (runtime.call_llm).
        time_left = 20.0 if variant == "max_seconds" else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await batch(calls)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        # HTTP clients litellm holds (openai SDK clients and its own handler's): the openai SDK path keeps one per
        # distinct timeout it was handed (a new client is a new connection pool: a TCP connection per call when
        # every call has its own timeout); only the fake model is called here.
        clients = len(litellm_module().in_memory_llm_clients_cache.cache_dict)
        out[variant] = {"cpu_us": cpu / calls * 1e6, "wall_ms": wall / calls * 1e3, "clients": clients}
    return out


def profile_areas(raw: Path) -> dict[str, float]:
    """Shares of py-spy's samples on the event loop (set-up and imports left out), by AREAS."""
    counts: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if "run_until_complete" not in stack:
            continue
        area = "asyncio loop + other"
        for frame in reversed(stack.split(";")):
            path = frame[frame.rfind("(") + 1:]
            hit = next((a for a, marks in AREAS if any(m in path for m in marks)), None)
            if hit is not None:
                area = hit
                break
        counts[area] = counts.get(area, 0) + int(n)
    total = sum(counts.values()) or 1
    return {a: round(100 * c / total, 1) for a, c in sorted(counts.items(), key=lambda kv: -kv[1])}


# ---------------------------------------------------------------- the parent: fake model, trees, rounds


def run_child(root: Path, fake_url: str, args: argparse.Namespace, spy_to: Path | None = None) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(root), "--fake-url", fake_url,
            "--calls", str(args.calls), "--concurrency", str(args.concurrency)]
    if spy_to is not None:  # py-spy samples the child (it adds a little CPU of its own: not a measured round)
        argv = [str(Path(sys.executable).with_name("py-spy")), "record", "-r", "250", "--format", "raw", "-o",
                str(spy_to), "--", *argv]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    if done.returncode != 0:
        raise RuntimeError(f"child for {root} failed:\n{done.stderr[-3000:]}")
    return json.loads(next(line for line in reversed(done.stdout.splitlines()) if line.startswith("{")))


def main() -> int:
    parser = call_bench_parser(__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.fake_url, args.calls, args.concurrency)))
        return 0

    sys.path.insert(0, str(ROOT))
    from bench._common import machine, median, table, today, write_section
    from bench._stack import fake_model_on_migrated_database

    fake, fake_url = fake_model_on_migrated_database(DATABASE_URL, REDIS_URL, log)
    where = machine()
    try:
        trees = {"after": ROOT} if args.before is None else {"before": args.before, "after": ROOT}
        cpu: dict[tuple[str, str], list[float]] = {(t, v): [] for v in VARIANTS for t in trees}
        wall: dict[tuple[str, str], list[float]] = {(t, v): [] for v in VARIANTS for t in trees}
        clients: dict[tuple[str, str], int] = {}
        for r in range(args.rounds):
            for name, root in trees.items():
                got = run_child(root, fake_url, args)
                for v in VARIANTS:
                    cpu[name, v].append(got[v]["cpu_us"])
                    wall[name, v].append(got[v]["wall_ms"])
                    clients[name, v] = got[v]["clients"]
                log(f"round {r + 1} {name}: " + ", ".join(f"{v} {got[v]['cpu_us']:.0f}" for v in VARIANTS)
                    + " µs CPU per call")
        prof: dict[str, dict[str, float]] = {}
        if args.profile:
            for name, root in trees.items():
                raw = Path(tempfile.mkdtemp(prefix="model-call-spy-")) / "raw.txt"
                run_child(root, fake_url, args, spy_to=raw)
                prof[name] = profile_areas(raw)
    finally:
        fake.stop()
    rows = [[v.replace("_", " "), name, f"{median(cpu[name, v]):.0f}", " / ".join(f"{x:.0f}" for x in cpu[name, v]),
             f"{median(wall[name, v]):.2f}", clients[name, v]] for v in VARIANTS for name in trees]
    body = f"""## CPU per model call in the worker (`bench/model_call_cpu.py`, {today()})

{where}

`LiteLLMGateway.estimate_cost` + `complete` as a published endpoint's sync run calls them (real registry route,
closed circuit breaker, the live-deltas check, litellm → `bench/fake_openai.py` at 0 ms over HTTP, in its own
process), in a run without a time budget and in one with `max_seconds` (each call's deadline is what is left
of it), {args.calls} calls per measurement after {WARMUP} warm-up calls, {args.concurrency} at a time on one event
loop; {args.rounds} rounds, trees alternating, each in a fresh process. CPU = the process's user + system time.

{table(["run", "tree", "CPU µs per call (median)", "each round", "wall ms per call",
        "HTTP clients litellm holds after"], rows)}
"""
    if prof:
        areas = list(next(iter(prof.values())))
        body += ("\nWhere the CPU goes (py-spy, 250 Hz, one extra pass per tree, both runs; share of the samples on "
                 "the event loop, each given to the innermost matching frame):\n\n")
        body += table(["area", *(f"{name} %" for name in prof)],
                      [[a, *(p.get(a, 0.0) for p in prof.values())] for a in areas]) + "\n"
    if args.before is not None:
        body += f"\n`before` = `{args.before}`.\n"
    print(body)
    if not args.no_write:
        write_section("model_call_cpu", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
