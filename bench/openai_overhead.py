"""What the OpenAI-compatible skin costs: the same flow called as ``POST /v1/chat/completions`` and as
``POST /api/v1/flows/<slug>/run`` (sync), one call at a time, alternating, on the live stack.

Same stack as bench/endpoint_throughput.py (Daphne, one Celery worker, PostgreSQL, Redis, litellm → the fake
model over HTTP) and the same one-call flow; its own database and Redis db so the two can run side by side.

    .venv/bin/python bench/openai_overhead.py [--calls 50] [--latency-ms 0] [--no-write]
    .venv/bin/python bench/openai_overhead.py --before DIR [--rounds 6] [--calls 60] [--clients 4]

``--before DIR``: another checkout (``git archive <commit> | tar -x -C DIR``), served side by side with this
tree (each its own web server and worker, the same database and Redis); rounds of concurrent
``/v1/chat/completions`` calls alternate between the two trees, so load from others on the machine falls on both
alike, and the section reports the web process's CPU per call and calls/s of each tree.
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


class Tree:
    """One code tree's web server (as web_cmd.py serves it) and worker, and what its rounds measured."""

    def __init__(self, tag: str, code: Path, env: dict[str, str]):
        self.tag, self.code = tag, code
        self.queue = f"patchbay-bench-openai-{os.getpid()}-{tag}"
        self.env = {**env, "PATCHBAY_QUEUE": self.queue, "PYTHONPATH": str(code)}
        self.worker = start_worker(self.env, f"bench-openai-{os.getpid()}-{tag}@{socket.gethostname()}", 16, code)
        self.web, port = start_web(self.env, code)
        self.url = f"http://127.0.0.1:{port}"
        self.cpu_s = self.wall_s = 0.0
        self.latencies: list[float] = []
        self.rates: list[float] = []

    def web_cpu_s(self) -> float:
        import psutil

        times = psutil.Process(self.web.process.pid).cpu_times()
        return times.user + times.system

    def round(self, key: str, clients: int, calls: int, tag: str) -> None:
        """``calls`` chat completions from ``clients`` concurrent clients; web CPU and wall time over them."""
        import asyncio

        cpu, started = self.web_cpu_s(), time.perf_counter()
        latencies = asyncio.run(chat_load(self.url, key, clients, calls, tag))
        wall = time.perf_counter() - started
        self.cpu_s += self.web_cpu_s() - cpu
        self.wall_s += wall
        self.latencies += latencies
        self.rates.append(len(latencies) / wall)

    def stop(self) -> None:
        for child in (self.web, self.worker):
            child.stop()
        try:
            import redis

            redis.Redis.from_url(endpoints.REDIS_URL).delete(self.queue, f"_kombu.binding.{self.queue}")
        except Exception as exc:  # best effort; the queue name is unique anyway
            log(f"could not delete the bench queue from Redis: {exc}")


async def chat_load(url: str, key: str, clients: int, calls: int, tag: str) -> list[float]:
    """Each client posts chat completions one after another until ``calls`` are made; their latencies."""
    import httpx

    latencies: list[float] = []
    left = iter(range(calls))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for n in left:
            started = time.perf_counter()
            chat = await client.post("/v1/chat/completions", json={
                "model": endpoints.SLUG, "messages": [{"role": "user", "content": f"{tag} call {n}"}]})
            latencies.append(time.perf_counter() - started)
            assert chat.status_code == 200 and chat.json()["choices"][0]["message"]["content"], chat.text

    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 trust_env=False) as client:
        import asyncio

        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return latencies


def limited_key() -> str:
    """A key of the bench's workspace with a rate limit no round reaches, so every call counts in Redis as a
    limited key's calls do (the admission checks it); the fixtures' own key has none."""
    from django.db import connections

    from backend.endpoints.models import Endpoint
    from backend.endpoints.services import api_key_create

    endpoint = Endpoint.objects.select_related("workspace", "created_by").get(slug=endpoints.SLUG)
    _, key = api_key_create(user=endpoint.created_by, workspace=endpoint.workspace, name="bench limited",
                            rate_limit_per_minute=1_000_000)
    connections.close_all()
    return key


def compare_report(args: argparse.Namespace, trees: list[Tree], load: tuple[float, float, float],
                   total_s: float) -> str:
    """``machine()`` names the load average at the start; ``load`` is the one at the end."""
    rows = [[t.tag, len(t.latencies), f"{t.cpu_s / len(t.latencies) * 1e6:.0f}", f"{median(t.rates):.1f}",
             f"{len(t.latencies) / t.wall_s:.1f}", f"{median(t.latencies) * 1000:.1f}",
             f"{p95(t.latencies) * 1000:.1f}"] for t in trees]
    before, after = trees[1], trees[0]
    machine_at_start = f"{today()}; {args.machine}"
    cpu_ratio = (after.cpu_s / len(after.latencies)) / (before.cpu_s / len(before.latencies))
    rate_ratio = median(after.rates) / median(before.rates)
    return f"""## OpenAI-compatible API: `/v1/chat/completions` before → after (`bench/openai_overhead.py --before`)

{machine_at_start}. Two trees served side by side on one database and Redis, each with its own web server
(`backend/config/web_cmd.py`) and Celery worker (threads pool, 16): `before` = {args.before}, `after` = this
tree. {args.rounds} rounds of {args.calls} sync `POST /v1/chat/completions` calls per tree from {args.clients}
concurrent clients, the trees alternating round by round (ABBA), after a warm-up round each. The flow of
bench/endpoint_throughput.py (input → one llm node → output) on `bench/fake_openai.py` with {args.latency_ms:g} ms
of latency, each call its own input (no cache hit), with a key that has a rate limit (1,000,000/min: checked in
Redis on every call, never reached). Web CPU is psutil's user + system time of the web process over the rounds,
divided by the calls; calls/s is the median of the rounds' rates (and all calls over all rounds' wall time).
Other helpers' benchmarks and tests ran on the same 2 cores throughout (load average at the end
{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}); the bench took {total_s:.0f} s.

{table(["tree", "calls", "web CPU µs/call", "calls/s (median round)", "calls/s (all)", "p50 ms", "p95 ms"], rows)}

After / before: web CPU per call ×{cpu_ratio:.2f}, calls/s ×{rate_ratio:.2f}.
"""


def _bench_env(data_dir: str) -> dict[str, str]:
    """The children's environment (bench/endpoint_throughput.py's), also this process's: it sets up fixtures."""
    env = endpoints.child_env(data_dir)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "PATCHBAY_QUEUE", "PATCHBAY_DATA_DIR",
                                           "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL")})
    return env


def _migrated_with_fake_model(env: dict[str, str], latency_ms: float) -> Any:
    """The bench database created and migrated; the fake model started in this process (the caller stops it)."""
    endpoints.ensure_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return start_in_thread(FakeConfig(latency_ms=latency_ms))


def compare(args: argparse.Namespace) -> None:
    data_dir = tempfile.mkdtemp(prefix="patchbay-bench-openai-")
    env = _bench_env(data_dir)
    trees: list[Tree] = []
    fake = None
    began = time.perf_counter()
    args.machine = machine()  # with the load average as the bench starts
    try:
        fake = _migrated_with_fake_model(env, args.latency_ms)
        endpoints.setup_fixtures(fake.url)
        key = limited_key()
        trees = [Tree("after", ROOT, env), Tree("before", args.before.resolve(), env)]
        for tree in trees:
            tree.round(key, args.clients, args.clients * 5, f"warm-{tree.tag}")
            tree.cpu_s = tree.wall_s = 0.0
            tree.latencies, tree.rates = [], []
        for n in range(args.rounds):
            order = trees if n % 4 in (0, 3) else list(reversed(trees))  # ABBA: neither tree always goes first
            for tree in order:
                tree.round(key, args.clients, args.calls, f"r{n}-{tree.tag}")
                log(f"round {n + 1} {tree.tag}: {tree.rates[-1]:.1f} calls/s, "
                    f"{tree.cpu_s / len(tree.latencies) * 1e6:.0f} µs web CPU/call so far")
        for tree in trees:
            require_alive([tree.web, tree.worker])
        body = compare_report(args, trees, os.getloadavg(), time.perf_counter() - began)
        print(body)
        if not args.no_write:
            write_section("openai_overhead", body)
    finally:
        for tree in trees:
            tree.stop()
        if fake is not None:
            fake.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--before", type=Path, help="a baseline checkout, measured alternately with this tree")
    parser.add_argument("--rounds", type=int, default=6, help="with --before: rounds per tree")
    parser.add_argument("--clients", type=int, default=4, help="with --before: concurrent clients")
    args = parser.parse_args()
    if args.before is not None:
        compare(args)
        return
    import httpx

    data_dir = tempfile.mkdtemp(prefix="patchbay-bench-openai-")
    env = _bench_env(data_dir)
    children: list[Child] = []
    fake = None
    try:
        fake = _migrated_with_fake_model(env, args.latency_ms)
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
