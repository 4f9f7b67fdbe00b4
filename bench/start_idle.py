"""Start and idle (issue 16): start → healthy, the first run, and idle RSS of web + worker, before and after.

For each code tree, and for this tree with models warmed (the default) and not (``PATCHBAY_WARM_MODELS=false``),
several times each, on the bench database and Redis, with the published endpoint ``bench-chain3`` of
``bench/published_path.py`` on a 100 ms ``bench/fake_openai.py`` model:

- **start → healthy**: a web server (Uvicorn, as ``web_cmd.py`` spells it) and one Celery worker (as
  ``worker_cmd.py`` spells it) are started together; ``GET /api/health/`` is polled every 50 ms until it answers
  200 (the web serves and at least one worker has reported ready: its heartbeat is fresh). A tree without a health
  endpoint gets "—". Also: the web's port open, and a first sync call of chain3 sent the moment the stack is
  healthy (or its port opens), answered (seconds from the start).
- **idle before the first run**: another start, left alone until web and worker are at rest (no run yet; a
  warmed worker has loaded litellm by then), RSS of web and worker (psutil, with child processes); then one call (its wall time: the
  first call on a rested worker), then 8 clients × 3 calls of each flow, 2 s of rest, RSS again (**after warm-up**).

    .venv/bin/python bench/start_idle.py --before /tmp/pb-before [--repeat 3] [--no-write]

Numbers are medians over the repeats. Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379
(BENCH_DATABASE_URL / BENCH_REDIS_URL).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, median, table, today, write_section  # noqa: E402
from bench.fake_openai import FakeConfig, start_in_thread  # noqa: E402
from bench.published_path import (  # noqa: E402
    Stack,
    bench_environment,
    level,
    rss_mib,
    setup_fixtures,
    wait_healthy,
)

QUIET_CPU = 0.02  # a process at rest: under 2 % of a core over a second
SETTLE_MAX_S = 90.0


def log(message: str) -> None:
    print(f"[start_idle {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its children used so far: the start's cost whatever the load."""
    import psutil

    proc = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in (proc, *proc.children(recursive=True)))


def settle(stack: Stack) -> None:
    """Wait until web and worker are at rest (each under QUIET_CPU of a core over a second, three seconds in a
    row): a warmed worker has then finished loading its models, whatever the machine's load."""
    pids = [stack.web.process.pid, stack.workers[0].process.pid]
    deadline, quiet = time.monotonic() + SETTLE_MAX_S, 0
    last = [cpu_s(pid) for pid in pids]
    while time.monotonic() < deadline and quiet < 3:
        time.sleep(1.0)
        now = [cpu_s(pid) for pid in pids]
        quiet = quiet + 1 if all(b - a < QUIET_CPU for a, b in zip(last, now, strict=True)) else 0
        last = now


def one_call(stack: Stack, key: str, tag: str) -> float:
    result = asyncio.run(level(stack.url, key, "bench-chain3", 1, 1, tag))
    if result["failures"]:
        raise RuntimeError(f"{tag}: the call failed: {result['failures']}")
    return result["samples"][0]


def measure_start(code: Path, key: str, tag: str, env: dict[str, str]) -> dict[str, Any]:
    """Start → port open, → healthy, → first run answered (a call sent as soon as the stack says it is ready)."""
    with _env(env):
        stack = Stack(code, "uvicorn", 1, tag)
    try:
        healthy = wait_healthy(stack)
        cpu = cpu_s(stack.web.process.pid) + cpu_s(stack.workers[0].process.pid)
        one_call(stack, key, f"{tag}-first")
        return {"port": stack.listening_s, "healthy": healthy, "first": time.perf_counter() - stack.started,
                "cpu": cpu}
    finally:
        stack.stop()


def measure_idle(code: Path, key: str, tag: str, env: dict[str, str]) -> dict[str, Any]:
    """RSS at rest before any run, the first call's wall time then, and RSS after warm-up."""
    with _env(env):
        stack = Stack(code, "uvicorn", 1, tag)
    try:
        wait_healthy(stack)
        settle(stack)
        before = {"web": rss_mib(stack.web.process.pid), "worker": rss_mib(stack.workers[0].process.pid)}
        first_call = one_call(stack, key, f"{tag}-rested")
        for slug in ("bench-chain3", "bench-fanout3"):
            asyncio.run(level(stack.url, key, slug, 8, 3, f"{tag}-warm"))
        time.sleep(2)
        after = {"web": rss_mib(stack.web.process.pid), "worker": rss_mib(stack.workers[0].process.pid)}
        return {"before": before, "first_call": first_call, "after": after}
    finally:
        stack.stop()


class _env:
    """Extra environment for the stack's children (Stack reads os.environ through stack_env)."""

    def __init__(self, extra: dict[str, str]):
        self.extra, self.saved = extra, {}

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in self.extra}
        os.environ.update(self.extra)

    def __exit__(self, *_: object) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _med(samples: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for s in samples:
        for p in path:
            s = s[p]
        if s is not None:
            values.append(s)
    return median(values) if values else None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def report(configs: list[dict[str, Any]], repeat: int, load_before: tuple[float, ...], total_s: float) -> str:
    start_rows, idle_rows = [], []
    for c in configs:
        s, i = c["start"], c["idle"]
        start_rows.append([c["name"], _fmt(_med(s, "port")), _fmt(_med(s, "healthy")), _fmt(_med(s, "cpu")),
                           _fmt(_med(s, "first"))])
        web_b, wrk_b = _med(i, "before", "web"), _med(i, "before", "worker")
        web_a, wrk_a = _med(i, "after", "web"), _med(i, "after", "worker")
        idle_rows.append([c["name"], _fmt(web_b, 0), _fmt(wrk_b, 0), _fmt((web_b or 0) + (wrk_b or 0), 0),
                          f"{(_med(i, 'first_call') or 0) * 1000:.0f}",
                          _fmt(web_a, 0), _fmt(wrk_a, 0), _fmt((web_a or 0) + (wrk_a or 0), 0)])
    load = os.getloadavg()
    return f"""## Start and idle (`bench/start_idle.py`, issue 16)

A Uvicorn web server and one Celery worker (threads, 64) started together on the bench database and Redis, as
`web_cmd.py` and `worker_cmd.py` spell them; chain3 = the published endpoint of three 100 ms model steps
(`bench/published_path.py`). Medians of {repeat} starts per row. **healthy** = `GET /api/health/` answers 200: the
web serves and a worker has reported ready (its heartbeat is fresh); "—" where the tree has no health endpoint.
**first run answered** = a sync chain3 call sent the moment the stack is healthy (or its port opens), answered.
CPU s until healthy (for a tree without a health endpoint: until its port opened) does not depend on the load.

Conditions: {machine()}; {today()}; load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}
(at the start {load_before[0]:.2f}); whole script {total_s:.0f} s. The machine is shared: read times as upper
bounds.

{table(["tree", "port open s", "healthy s", "CPU s of web + worker until healthy", "first run answered s"],
       start_rows)}

RSS in MiB (psutil, with child processes). **Idle before the first run**: after healthy, once web and worker are
at rest (under {QUIET_CPU * 100:g} % of a core for 3 s: a warmed worker has loaded its models), no run yet. Then one chain3 call (its wall time, 300 ms of it the model's), then 8 clients × 3 calls of chain3 and
fanout3, 2 s of rest: **after warm-up**.

{table(["tree", "idle web", "idle worker", "idle web + worker", "first call ms", "after warm-up web",
        "worker", "web + worker"], idle_rows)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout of the project (the baseline)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-lazy", dest="lazy", action="store_false",
                        help="skip this tree with PATCHBAY_WARM_MODELS=false")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    started, load_before = time.perf_counter(), os.getloadavg()
    bench_environment()
    fake = start_in_thread(FakeConfig(latency_ms=100.0))
    trees: list[tuple[str, Path, dict[str, str]]] = []
    if args.before:
        trees.append(("before", args.before.resolve(), {}))
    trees.append(("after (models warmed)", ROOT, {}))
    if args.lazy:
        trees.append(("after, PATCHBAY_WARM_MODELS=false", ROOT, {"PATCHBAY_WARM_MODELS": "false"}))
    try:
        key = setup_fixtures(fake.url)
        configs = []
        for name, code, extra in trees:
            starts, idles = [], []
            for n in range(args.repeat):
                tag = f"start{len(configs)}{n}"
                starts.append(measure_start(code, key, tag, extra))
                idles.append(measure_idle(code, key, tag + "i", extra))
                log(f"{name} #{n + 1}: {starts[-1]} {idles[-1]}")
            configs.append({"name": name, "start": starts, "idle": idles})
    finally:
        fake.stop()
    body = report(configs, args.repeat, load_before, time.perf_counter() - started)
    print(body)
    if not args.no_write:
        write_section("start_idle", body)


if __name__ == "__main__":
    main()
