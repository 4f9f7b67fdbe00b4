"""What the OpenAI-compatible skin costs: the same flow called as ``POST /v1/chat/completions`` and as
``POST /api/v1/flows/<slug>/run`` (sync), one call at a time, alternating, on the live stack.

Same stack as bench/endpoint_throughput.py (Daphne, one Celery worker, PostgreSQL, Redis, litellm → the fake
model over HTTP) and the same one-call flow; its own database and Redis db so the two can run side by side.

    .venv/bin/python bench/openai_overhead.py [--calls 50] [--latency-ms 0] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_openai_bench")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

from bench import endpoint_throughput as endpoints  # noqa: E402
from bench._common import machine, median, p95, table, today, write_section  # noqa: E402
from bench._stack import Child, require_alive, start_web, start_worker  # noqa: E402
from bench.fake_openai import FakeConfig, start_in_thread  # noqa: E402


def log(message: str) -> None:
    print(f"[openai_overhead {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def call_pair(client: Any, n: int) -> tuple[float, float]:
    """One native sync call and one chat completion of the same flow, each on its own input (no cache hit)."""
    started = time.perf_counter()
    native = client.post(f"/api/v1/flows/{endpoints.SLUG}/run", json={"input": {"text": f"native call {n}"}})
    native_s = time.perf_counter() - started
    assert native.status_code == 200 and native.json()["status"] == "succeeded", native.text
    started = time.perf_counter()
    chat = client.post("/v1/chat/completions", json={"model": endpoints.SLUG,
                                                     "messages": [{"role": "user", "content": f"openai call {n}"}]})
    chat_s = time.perf_counter() - started
    assert chat.status_code == 200 and chat.json()["choices"][0]["message"]["content"], chat.text
    return native_s, chat_s


def skin_cpu_us(repeat: int = 2000) -> float:
    """In-process cost of the OpenAI skin alone: parse the request, map it onto the input, shape the answer."""
    import datetime as dt
    from types import SimpleNamespace

    from backend.endpoints.openai_answers import chat_completion, run_answer
    from backend.endpoints.openai_mapping import flow_input, parse_chat

    doc = {"model": endpoints.SLUG, "messages": [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "What is the weather like?"}]}
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    run = SimpleNamespace(pk="0" * 32, status="succeeded", is_finished=True, output="Sunny, 21 degrees.",
                          input_tokens=12, output_tokens=5, created_at=dt.datetime.now(dt.UTC), error="")
    started = time.perf_counter()
    for _ in range(repeat):
        conversation = parse_chat(doc)
        flow_input(conversation.messages, schema, endpoints.SLUG)
        chat_completion(run, conversation.model.name, run_answer(run, conversation.response_format))
    return (time.perf_counter() - started) / repeat * 1e6


def report(args: argparse.Namespace, native: list[float], chat: list[float]) -> str:
    rows = [["`/api/v1/flows/<slug>/run` (sync)", len(native), f"{median(native) * 1000:.1f}",
             f"{p95(native) * 1000:.1f}"],
            ["`/v1/chat/completions`", len(chat), f"{median(chat) * 1000:.1f}", f"{p95(chat) * 1000:.1f}"]]
    overhead = (median(chat) - median(native)) * 1000
    pairs = sorted((c - n) * 1000 for n, c in zip(native, chat, strict=True))
    return f"""## OpenAI-compatible API: overhead over a native flow call (`bench/openai_overhead.py`)

{today()}; {machine()}. The flow of bench/endpoint_throughput.py (input → one llm node → output) on the same
live stack (Daphne, one Celery worker with the threads pool, PostgreSQL, Redis), the model alias on
`bench/fake_openai.py` over HTTP with {args.latency_ms:g} ms of latency. One client, calls one at a time,
alternating native and OpenAI calls ({args.calls} of each, after {args.warmup} warm-up pairs), each with its own
input so nothing comes from the cache.

{table(["route", "calls", "p50 ms", "p95 ms"], rows)}

Median overhead of `/v1/chat/completions`: {overhead:+.1f} ms (median of the per-pair differences:
{median(pairs):+.1f} ms). The OpenAI route does the same auth, rate-limit check and `flow_call_start`, plus
parsing the conversation, reading the endpoint's version to map it onto the flow's input schema, and
shaping the answer; both wait on the run the same way. Read the overhead against the spread of each route
(p95 − p50) on this shared machine: a difference smaller than that is noise. The skin's own work, timed in
process (parse a two-message request, map it onto the input, shape the completion): {skin_cpu_us():.0f} µs a call.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import httpx

    data_dir = tempfile.mkdtemp(prefix="patchbay-bench-openai-")
    env = endpoints.child_env(data_dir)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "PATCHBAY_QUEUE", "PATCHBAY_DATA_DIR",
                                           "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL")})
    children: list[Child] = []
    fake = None
    try:
        endpoints.ensure_database()
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        fake = start_in_thread(FakeConfig(latency_ms=args.latency_ms))
        key = endpoints.setup_fixtures(fake.url)
        children.append(start_worker(env, f"bench-openai-{os.getpid()}@{socket.gethostname()}", 16))
        server, port = start_web(env)
        children.append(server)
        native: list[float] = []
        chat: list[float] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
                          timeout=60) as client:
            for n in range(args.warmup):
                call_pair(client, -1 - n)
            log(f"{args.calls} pairs")
            for n in range(args.calls):
                native_s, chat_s = call_pair(client, n)
                native.append(native_s)
                chat.append(chat_s)
        require_alive(children)
        body = report(args, native, chat)
        print(body)
        if not args.no_write:
            write_section("openai_overhead", body)
    finally:
        for child in reversed(children):
            child.stop()
        if fake is not None:
            fake.stop()
        try:
            import redis

            redis.Redis.from_url(endpoints.REDIS_URL).delete(endpoints.QUEUE, f"_kombu.binding.{endpoints.QUEUE}")
        except Exception as exc:  # best effort; the queue name is unique anyway
            log(f"could not delete the bench queue from Redis: {exc}")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
