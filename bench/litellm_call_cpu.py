"""litellm's share of a model call in the worker: CPU of the first call after the warm-up and of steady calls.

Each child process (one per tree and round, trees alternating) does what a worker does: ``load_models()`` (the
worker's background warm-up, backend/runs/worker_start.py), then the project's own gateway call
(``LiteLLMGateway.estimate_cost`` + ``complete``, a whole answer, no stream) on an ``openai/gpt-4o-mini`` route
with its own api_base and key (so litellm's ``hosted_vllm`` provider, gateway.litellm_model) against
`bench/fake_openai.py` (0 ms, its own process: its CPU is not counted), one call at a time. It reports the CPU
(``time.process_time``: user + system, all threads) of the warm-up, of the first call, and per call over
``--calls`` calls after 40 more. ``--profile``: one extra pass per tree under py-spy, litellm's frames by
inclusive share of the samples of the measured calls.

    .venv/bin/python bench/litellm_call_cpu.py [--before /tmp/x] [--calls 600] [--rounds 3] [--profile] [--no-write]
                                               [--variants]

``--variants``: this tree again with each of VARIANTS (documented litellm settings or call parameters that
could cut litellm's work), in the same alternation: what each would save, measured, before any is adopted.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL / BENCH_REDIS_URL: the route is read from the real registry).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
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
ALIAS = "bench-litellm-cpu"
WARMUP = 40
# price of gpt-4o-mini in litellm's bundled map (what the gateway charges this route)
PRICES = {"input_cost_per_token": 1.5e-7, "output_cost_per_token": 6e-7}
# name: (litellm module attributes to set, extra call parameters)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "turn_off_message_logging": ({"turn_off_message_logging": True}, {}),
    "per-call input/output_cost_per_token": ({}, dict(PRICES)),
    "base_model=gpt-4o-mini": ({}, {"base_model": "gpt-4o-mini"}),
    "register_model(hosted_vllm/gpt-4o-mini)": ({"register": True}, {}),
    "disable_aiohttp_transport (httpx's own)": ({"disable_aiohttp_transport": True}, {}),
}
# Frames shown in the profile table: litellm's stages of one call, and the gateway's own parts around them.
FRAMES = [
    ("LiteLLMGateway.complete", "gateway: complete (all of it)"),
    ("client.<locals>.wrapper_async", "litellm acompletion (all of it)"),
    ("AsyncHTTPHandler.post", "litellm HTTP: httpx + aiohttp transport"),
    ("Logging._response_cost_calculator", "litellm cost calculation of the answer"),
    ("Logging._record_zero_cost_diagnostic", "  of which its zero-cost diagnosis"),
    ("OpenAIGPTConfig.transform_response", "litellm response parsing (ModelResponse)"),
    ("BaseEventLoop.run_in_executor", "litellm: handing completion() to a thread"),
    ("function_setup", "litellm function_setup (Logging object, provider lookup)"),
    ("Logging.__init__", "  of which the Logging object"),
    ("_dispatch_success_logging", "litellm success logging (no callback set)"),
    ("LiteLLMGateway.estimate_cost", "gateway: budget estimate (registry read, token count)"),
    ("token_counter", "  of which litellm token_counter"),
    ("RedisBreaker.allow", "gateway: circuit breaker check (Redis)"),
]


def log(message: str) -> None:
    print(f"[litellm_call_cpu {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def child(root: Path, fake_url: str, calls: int, variant: str | None) -> dict[str, Any]:
    from _common import django_with_fake_alias  # this script's folder is first on the path

    django_with_fake_alias(root, tag="litellmcpu", database_url=DATABASE_URL, redis_url=REDIS_URL, fake_url=fake_url,
                           alias=ALIAS)
    from backend.providers.warm import load_models

    cpu0 = time.process_time()
    load_models()
    warm_ms = (time.process_time() - cpu0) * 1e3
    settings, params = VARIANTS[variant] if variant else ({}, {})
    if settings:
        from backend.providers.gateway import litellm_module

        litellm = litellm_module()
        for name, value in settings.items():
            if name == "register":
                litellm.register_model({"hosted_vllm/gpt-4o-mini": {**PRICES, "litellm_provider": "hosted_vllm",
                                                                    "mode": "chat"}})
            else:
                setattr(litellm, name, value)
    return {"warm_ms": warm_ms, **asyncio.run(_measure(calls, params))}


async def _measure(calls: int, params: dict[str, Any]) -> dict[str, Any]:
    from backend.engine.ports import LLMRequest
    from backend.providers.gateway import LiteLLMGateway
    from backend.providers.registry import resolve_route

    gateway = LiteLLMGateway(resolve_route)

    async def one(n: int) -> None:
        request = LLMRequest(ALIAS, [{"role": "system", "content": "You are a concise assistant."},
                                     {"role": "user", "content": f"Summarise ticket {n}: the printer on floor "
                                                                 f"{n % 7} jams when printing double-sided."}],
                             params={"max_tokens": 200, **params})
        await gateway.estimate_cost(request)
        result = await gateway.complete(request)
        assert result.text and result.cost_usd > 0 and result.input_tokens > 0, result

    cpu0 = time.process_time()
    await one(0)
    first_ms = (time.process_time() - cpu0) * 1e3
    for n in range(WARMUP):
        await one(n)
    cpu0 = time.process_time()
    for n in range(calls):
        await one(n)
    return {"first_ms": first_ms, "call_us": (time.process_time() - cpu0) / calls * 1e6}


def profile_frames(raw: Path) -> tuple[int, dict[str, float]]:
    """Inclusive share of FRAMES in the samples of the measured calls (the main thread's event loop)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if "_measure" not in stack:
            continue
        total += int(n)
        names = {frame.split(" (")[0] for frame in stack.split(";")}
        for name, _ in FRAMES:
            if name in names:
                counts[name] += int(n)
    return total, {label: round(100 * counts[name] / max(total, 1), 1) for name, label in FRAMES}


def run_child(root: Path, fake_url: str, calls: int, spy_to: Path | None = None,
              variant: str | None = None) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(root), "--fake-url", fake_url,
            "--calls", str(calls), *(["--variant", variant] if variant else [])]
    if spy_to is not None:
        argv = [str(Path(sys.executable).with_name("py-spy")), "record", "-r", "500", "--format", "raw", "-o",
                str(spy_to), "--", *argv]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    if done.returncode != 0:
        raise RuntimeError(f"child for {root} failed:\n{done.stderr[-3000:]}")
    return json.loads(next(line for line in reversed(done.stdout.splitlines()) if line.startswith("{")))


def main() -> int:
    parser = call_bench_parser(__doc__)
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.fake_url, args.calls, args.variant)))
        return 0

    sys.path.insert(0, str(ROOT))
    from bench._common import machine, median, table, today, write_section
    from bench._stack import fake_model_on_migrated_database

    fake, fake_url = fake_model_on_migrated_database(DATABASE_URL, REDIS_URL, log)
    where, load_start = machine(), os.getloadavg()
    trees = {"after": ROOT} if args.before is None else {"before": args.before, "after": ROOT}
    runs: dict[str, tuple[Path, str | None]] = {name: (root, None) for name, root in trees.items()}
    if args.variants:
        runs.update({f"after + {v}": (ROOT, v) for v in VARIANTS})
    got: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    prof: dict[str, tuple[int, dict[str, float]]] = {}
    try:
        for r in range(args.rounds):
            for name, (root, variant) in runs.items():
                got[name].append(run_child(root, fake_url, args.calls, variant=variant))
                log(f"round {r + 1} {name}: {got[name][-1]}")
        if args.profile:
            for name, root in trees.items():
                raw = Path(tempfile.mkdtemp(prefix="litellm-cpu-spy-")) / "raw.txt"
                run_child(root, fake_url, args.calls, spy_to=raw)
                prof[name] = profile_frames(raw)
    finally:
        fake.stop()
    load_end = os.getloadavg()

    def cell(name: str, key: str, fmt: str) -> list[str]:
        values = [g[key] for g in got[name]]
        return [format(median(values), fmt), " / ".join(format(v, fmt) for v in values)]

    rows = [[name, *cell(name, "call_us", ".0f"), *cell(name, "first_ms", ".1f"), *cell(name, "warm_ms", ".0f")]
            for name in runs]
    body = f"""## litellm's CPU per model call in the worker (`bench/litellm_call_cpu.py`, {today()})

{where}; load average {load_start[0]:.2f} at the start, {load_end[0]:.2f} at the end (2 cores shared with other
helpers' tests and benches: read the medians, rounds of one tree move by ±10–20 %).

A fresh process per tree and round, trees alternating: the worker's warm-up (`load_models()`), then the gateway's
own call (`estimate_cost` + `complete`, a whole answer) on an `openai/gpt-4o-mini` route with its own api_base and
key (litellm's `hosted_vllm` provider) against `bench/fake_openai.py` at 0 ms in its own process, one call at a
time: the first call, then {args.calls} calls after {WARMUP} more. CPU = the process's user + system time, all
threads. {args.rounds} rounds.

{table(["tree", "CPU µs per call (median)", "each round", "first call after the warm-up, CPU ms (median)",
        "each round", "warm-up CPU ms (median)", "each round"], rows)}
"""
    if prof:
        body += ("\nWhere a steady call's CPU goes (py-spy, 500 Hz, one extra pass per tree; inclusive share of the "
                 "samples of the measured calls on the event loop; litellm runs `completion()` itself in a "
                 "thread, not in these rows; " + ", ".join(f"{n}: {t} samples" for n, (t, _) in prof.items())
                 + "):\n\n")
        body += table(["frame", *(f"{name} %" for name in prof)],
                      [[label, *(p[1][label] for p in prof.values())] for _, label in FRAMES]) + "\n"
    if args.before is not None:
        body += f"\n`before` = `{args.before}`.\n"
    print(body)
    if not args.no_write:
        write_section("litellm_call_cpu", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
