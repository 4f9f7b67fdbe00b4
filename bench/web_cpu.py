"""The web process's share of a published-endpoint call: CPU µs, SQL statements and thread hops per sync call.

Drives the real stack (Uvicorn web as ``web_cmd.py`` spells it, one Celery worker) with sync calls of ``chain3``
(``bench/published_path.py``'s flow: three llm steps) on ``bench/fake_openai.py`` answering at once (0 ms), so
what is measured is overhead, not waiting. The web is served through ``bench/web_counting/web_cpu_asgi.py``,
which counts, inside the web process, SQL statements, commits, connection health checks and thread hops
(``sync_to_async``) and answers them on ``/__bench/counts``. Web CPU is psutil's user + system time of the web
process over the calls; the load generator, the worker and the fake model are not counted.

    .venv/bin/python bench/web_cpu.py [--before DIR] [--rounds 4] [--calls 200] [--clients 8] [--profile 15]

``--before DIR``: another checkout (``git archive <commit> | tar -x -C DIR``) served side by side with this tree
on the same database and Redis; rounds alternate between the two, so load from others on the machine falls on
both alike. Writes its section of bench/results.md unless ``--no-write``.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, table, today, write_section  # noqa: E402
from bench._stack import Child, free_port, start_worker, wait_for_port  # noqa: E402
from bench.fake_openai import FakeConfig, start_in_thread  # noqa: E402
from bench.published_path import (  # noqa: E402
    DATABASE_URL,
    OUT,
    REDIS_URL,
    areas,
    bench_environment,
    level,
    setup_fixtures,
    top_frames,
)

COUNTING = ROOT / "bench" / "web_counting"
SLUG = "bench-chain3"


def log(message: str) -> None:
    print(f"[web_cpu {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Tree:
    """One code tree's web (counting) and worker."""

    def __init__(self, tag: str, code: Path):
        from backend.config.web_cmd import ASGI_APP, web_argv
        from bench._stack import stack_env

        self.tag, self.code = tag, code
        self.data_dir = tempfile.mkdtemp(prefix=f"patchbay-bench-webcpu-{tag}-")
        self.queue = f"patchbay-bench-webcpu-{os.getpid()}-{tag}"
        env = stack_env(DATABASE_URL, REDIS_URL, self.queue, self.data_dir)
        env["PYTHONPATH"] = f"{code}:{COUNTING}"
        hostname = f"bench-webcpu-{os.getpid()}-{tag}@{socket.gethostname()}"
        self.worker = start_worker(env, hostname, 64, code)
        self.port = free_port()
        argv = [("web_cpu_asgi:application" if a == ASGI_APP else a)
                for a in web_argv(host="127.0.0.1", port=self.port)]
        self.web = Child(f"web {tag}", argv, env, code)
        wait_for_port(self.port, self.web.alive)
        self.url = f"http://127.0.0.1:{self.port}"
        self.cpu_s = 0.0
        self.calls = 0
        self.counted: dict[str, int] = {}

    def counts(self) -> dict[str, int]:
        import httpx

        return dict(httpx.get(f"{self.url}/__bench/counts", timeout=10, trust_env=False).json())

    def web_cpu_s(self) -> float:
        import psutil

        times = psutil.Process(self.web.process.pid).cpu_times()
        return times.user + times.system

    def measure(self, key: str, clients: int, per_client: int) -> None:
        before_counts, before_cpu = self.counts(), self.web_cpu_s()
        result = asyncio.run(level(self.url, key, SLUG, clients, per_client, f"{self.tag}-{time.time()}"))
        self.cpu_s += self.web_cpu_s() - before_cpu
        after = self.counts()
        for name, value in after.items():
            self.counted[name] = self.counted.get(name, 0) + value - before_counts.get(name, 0)
        self.calls += result["ok"]
        if result["failures"]:
            raise RuntimeError(f"{self.tag}: failed calls: {result['failures'][:3]}")

    def per_call(self) -> dict[str, float]:
        calls = max(1, self.calls)
        # the counts request itself (twice per round) is one HTTP request with no hop or statement
        return {"cpu_us": self.cpu_s / calls * 1e6, **{k: v / calls for k, v in self.counted.items()}}

    def profile(self, key: str, seconds: int, clients: int) -> list[tuple[str, float]]:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        OUT.mkdir(exist_ok=True)
        out = OUT / f"web_cpu-profile-{self.tag}.txt"
        recorder = subprocess.Popen([py_spy, "record", "-p", str(self.web.process.pid), "-d", str(seconds), "-r",
                                     "200", "-f", "raw", "-o", str(out), "--nonblocking", "--gil"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            asyncio.run(level(self.url, key, SLUG, clients, 10, f"{self.tag}-profile"))
        recorder.wait(timeout=seconds + 30)
        return areas(out) + [("—", 0.0)] + top_frames(out, 14)

    def stop(self) -> None:
        for child in (self.web, self.worker):
            child.stop()
        try:
            import redis

            redis.Redis.from_url(REDIS_URL).delete(self.queue, f"_kombu.binding.{self.queue}")
        except Exception as exc:
            log(f"could not delete the bench queue: {exc}")
        shutil.rmtree(self.data_dir, ignore_errors=True)


def report(trees: list[Tree], profiles: dict[str, list[tuple[str, float]]], args: argparse.Namespace,
           conditions: str, load_end: tuple[float, ...], wall_s: float) -> str:
    rows = []
    for tree in trees:
        p = tree.per_call()
        rows.append([tree.tag, tree.calls, f"{p['cpu_us']:.0f}", f"{p.get('statements', 0):.2f}",
                     f"{p.get('commits', 0):.2f}", f"{p.get('health_checks', 0):.2f}",
                     f"{p.get('thread_hops', 0):.2f}", f"{p.get('connects', 0):.3f}"])
    text = f"""## The web process per published-endpoint call (`bench/web_cpu.py`, issue 16)

Sync calls of chain3 (three llm steps) on `bench/fake_openai.py` at 0 ms, {args.clients} keep-alive clients,
{args.rounds} rounds of {args.calls} calls per tree, the trees alternating round by round on the same database
and Redis (both stacks up at once: Uvicorn web as `web_cmd.py` spells it + one Celery worker each). **web CPU** =
user + system time of the web process over the calls, divided by the calls; statements, commits, connection health
checks (each a round trip), new database connections and thread hops (`sync_to_async`: ORM work and sync middleware) are counted inside the
web process (`bench/web_counting/web_cpu_asgi.py`).

Conditions: {conditions}; {today()}; load average at the end {load_end[0]:.2f} {load_end[1]:.2f}
{load_end[2]:.2f}; whole script {wall_s:.0f} s.

{table(["tree", "calls", "web CPU µs/call", "SQL statements/call", "commits/call", "health checks/call",
        "thread hops/call", "new connections/call"], rows)}
"""
    for tag, frames in profiles.items():
        cut = [name for name, _ in frames].index("—")
        area_rows = [f"{name} {share * 100:.0f} %" for name, share in frames[:cut] if share]
        frame_rows = [[f"{share * 100:.0f} %", f"`{name}`"] for name, share in frames[cut + 1:]]
        text += (f"\n**{tag} — web** (py-spy `--gil`, 200 Hz, {args.profile} s at {args.clients} clients). By area: "
                 + " · ".join(area_rows) + "\n\n" + table(["share", "top frames (plumbing left out)"], frame_rows)
                 + "\n")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="a baseline checkout, measured alternately with this tree")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--calls", type=int, default=200, help="calls per round and tree")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy on each web (0: none)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    conditions = machine()
    bench_environment()
    fake = start_in_thread(FakeConfig(latency_ms=0.0))
    trees: list[Tree] = []
    try:
        key = setup_fixtures(fake.url)
        for tag, code in ([("before", args.before.resolve())] if args.before else []) + [("after", ROOT)]:
            log(f"{tag}: starting web + worker from {code}")
            trees.append(Tree(tag, code))
        for tree in trees:  # warm every pool, the caches and the run waiter
            asyncio.run(level(tree.url, key, SLUG, args.clients, 6, f"{tree.tag}-warm"))
        per_client = max(1, args.calls // args.clients)
        for round_ in range(args.rounds):
            for tree in trees if round_ % 2 == 0 else list(reversed(trees)):
                tree.measure(key, args.clients, per_client)
                p = tree.per_call()
                log(f"round {round_ + 1} {tree.tag}: {p['cpu_us']:.0f} µs web CPU/call so far, "
                    f"{p.get('statements', 0):.2f} statements, {p.get('thread_hops', 0):.2f} hops")
        profiles = {tree.tag: tree.profile(key, args.profile, args.clients) for tree in trees} if args.profile else {}
    finally:
        for tree in trees:
            tree.stop()
        fake.stop()
    text = report(trees, profiles, args, conditions, os.getloadavg(), time.perf_counter() - started)
    print(text)
    print(json.dumps({t.tag: t.per_call() for t in trees}, indent=1))
    if not args.no_write:
        write_section("web_cpu", text)


if __name__ == "__main__":
    main()
