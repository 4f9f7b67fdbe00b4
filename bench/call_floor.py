"""What a model call costs a run's critical path before any of Patchbay's own work: the floor under issue 16's
latency targets.

The same chat-completions request to ``bench/fake_openai.py`` (0 ms latency, its own process, keep-alive HTTP on
loopback), made three ways in one process, rounds alternating:

- **raw HTTP**: aiohttp's client posts the JSON body and reads the JSON answer; nothing else. What any product
  pays to talk to a model over HTTP from Python.
- **litellm**: ``litellm.acompletion`` as the gateway calls it for an OpenAI-compatible server (the
  ``hosted_vllm`` provider, ``max_retries=0``, a timeout), warmed.
- **gateway**: ``LiteLLMGateway.complete`` as a published endpoint's sync run calls it (the registry's route,
  the circuit breaker's round trip, litellm), on the bench database and Redis.

Each way is timed one call at a time (a chain's steps: each call's whole wall is on the critical path) and three
at a time on one event loop (a fan-out of three branches: the wall of the trio). The difference to raw HTTP is
what the layer adds to a run's critical path per call, with no model time and no queueing behind other runs.

    .venv/bin/python bench/call_floor.py [--calls 200] [--rounds 3] [--write]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import django_with_fake_alias, machine, median, table, today, write_section  # noqa: E402
from bench._stack import fake_model_on_migrated_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_call_floor_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
ALIAS = "bench-call-floor"
WAYS = ("raw HTTP", "litellm", "gateway")
WARMUP = 30


def log(message: str) -> None:
    print(f"[call_floor {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def messages(n: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": f"Summarise ticket {n}: the printer on floor {n % 7} jams."}]


class Ways:
    """The three ways to make one call, each an ``async (n) -> None`` that fails on a bad answer."""

    def __init__(self, fake_url: str) -> None:
        import aiohttp

        from backend.engine.ports import LLMRequest
        from backend.providers.gateway import SELF_HOSTED_OPENAI, LiteLLMGateway, litellm_module
        from backend.providers.registry import resolve_route
        from backend.runs.live_deltas import deltas_wanted_check

        self.session = aiohttp.ClientSession(headers={"Authorization": "Bearer bench-key"})
        litellm = litellm_module()
        gateway = LiteLLMGateway(resolve_route,
                                 stream_when=deltas_wanted_check(uuid.uuid4(), "endpoint", "req-floor"))

        async def raw(n: int) -> None:
            async with self.session.post(f"{fake_url}/chat/completions",
                                         json={"model": "gpt-4o-mini", "messages": messages(n)}) as response:
                body = await response.json()
            assert response.status == 200 and body["choices"][0]["message"]["content"], body

        async def through_litellm(n: int) -> None:
            answer = await litellm.acompletion(model=f"{SELF_HOSTED_OPENAI}/gpt-4o-mini", messages=messages(n),
                                               api_base=fake_url, api_key="bench-key", max_retries=0, timeout=30)
            assert answer.choices[0].message.content, answer

        async def through_gateway(n: int) -> None:
            # As a published endpoint's llm step asks (bench/published_path.py): streamed if someone reads live.
            result = await gateway.complete(LLMRequest(ALIAS, messages(n), params={}, stream=True),
                                            lambda text, attempt: None)
            assert result.text, result

        self.ways = {"raw HTTP": raw, "litellm": through_litellm, "gateway": through_gateway}


async def timed(call: Any, calls: int, at_once: int, start: int) -> tuple[float, float]:
    """(median wall ms of a call — of a group of ``at_once`` calls —, CPU µs per call) over ``calls`` calls."""
    walls = []
    cpu0 = time.process_time()
    for g in range(calls // at_once):
        t0 = time.perf_counter()
        await asyncio.gather(*(call(start + g * at_once + i) for i in range(at_once)))
        walls.append((time.perf_counter() - t0) * 1000)
    return median(walls), (time.process_time() - cpu0) / calls * 1e6


async def measure(fake_url: str, calls: int, rounds: int) -> dict[tuple[str, int], dict[str, list[float]]]:
    ways = Ways(fake_url)
    out: dict[tuple[str, int], dict[str, list[float]]] = {
        (w, k): {"wall": [], "cpu": []} for w in WAYS for k in (1, 3)}
    try:
        for way in WAYS:
            await timed(ways.ways[way], WARMUP, 1, 0)
        n = 10_000
        for _ in range(rounds):
            for at_once in (1, 3):
                for way in WAYS:
                    wall, cpu = await timed(ways.ways[way], calls, at_once, n)
                    n += calls
                    out[(way, at_once)]["wall"].append(wall)
                    out[(way, at_once)]["cpu"].append(cpu)
    finally:
        await ways.session.close()
    return out


def report(got: dict[tuple[str, int], dict[str, list[float]]], args: argparse.Namespace, where: str,
           load: tuple[float, ...]) -> str:
    def wall(way: str, k: int) -> float:
        return median(got[(way, k)]["wall"])

    rows = []
    for way in WAYS:
        rows.append([way, f"{wall(way, 1):.2f}", f"{wall(way, 1) - wall('raw HTTP', 1):+.2f}",
                     f"{median(got[(way, 1)]['cpu']):.0f}", f"{wall(way, 3):.2f}",
                     f"{wall(way, 3) - wall('raw HTTP', 3):+.2f}"])
    chain = 3 * (wall("gateway", 1) - wall("raw HTTP", 1))
    fan = wall("gateway", 3) - wall("raw HTTP", 3)
    return f"""## The floor under the latency targets: one model call's wall, raw HTTP vs litellm vs the gateway (`bench/call_floor.py`, issue 16)

The same chat-completions request to `bench/fake_openai.py` (0 ms latency, its own process, keep-alive loopback
HTTP) made three ways in one process: **raw HTTP** (aiohttp posts the body and reads the JSON answer, nothing
else), **litellm** (`acompletion` on the `hosted_vllm` provider as the gateway calls an OpenAI-compatible
server), **gateway** (`LiteLLMGateway.complete` as a published endpoint's sync run calls it: registry route,
circuit breaker round trip, litellm). One call at a time (a chain's step: the call's wall is on the run's
critical path) and three at a time on one event loop (a fan-out of three: the trio's wall). {args.calls} calls per
way and mode per round, {args.rounds} rounds alternating, medians of the rounds' medians. CPU µs per call: this
process (the fake model's process not counted).

Conditions: {where}; {today()}; load average at the start {load[0]:.2f}.

""" + table(["way", "1 at a time: wall ms per call", "over raw HTTP", "CPU µs per call",
             "3 at a time: wall ms of the trio", "over raw HTTP"], rows) + f"""

What the model calls alone put on a run's critical path beyond the HTTP itself, before the web request, the
queue hop, the claim, the trace and the answer: **chain3** (3 calls in a row) {chain:.1f} ms; **fanout3** (3 calls
at once) {fan:.1f} ms.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    fake, fake_url = fake_model_on_migrated_database(DATABASE_URL, REDIS_URL, log)
    try:
        django_with_fake_alias(ROOT, tag="floor", database_url=DATABASE_URL, redis_url=REDIS_URL, fake_url=fake_url,
                               alias=ALIAS)
        from backend.providers.warm import load_models

        load_models()
        got = asyncio.run(measure(fake_url, args.calls, args.rounds))
    finally:
        fake.stop()
    body = report(got, args, machine().split(", load average")[0], load)
    print(body)
    if args.write:
        write_section("call_floor", body)


if __name__ == "__main__":
    main()
