"""What the in-worker benches (worker_store, worker_runtime, worker_critical_path) share: their command line, a
tree's environment, the set-up before the trees alternate (bench database migrated, fake model up), the runs they
create and the profiler they attach.

Each bench measures this checkout ("after") and optionally ``--before DIR`` (another checkout), round by round in
child processes, so the machine's load hits both trees alike.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def tree_parser(doc: str | None, *, rounds: int, latency_ms: float) -> argparse.ArgumentParser:
    """The options every alternating-tree bench takes (its own defaults for rounds and model latency)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another checkout to measure first (alternating)")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--latency-ms", type=float, default=latency_ms)
    parser.add_argument("--write", action="store_true", help="keep the section in bench/results.md")
    parser.add_argument("--profile", default="", help="py-spy into this raw file (+ tag)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--model-url", default="", help=argparse.SUPPRESS)
    return parser


def tree_env(code: Path, *, queue: str, database_url: str, redis_url: str, data_dir: str) -> dict[str, str]:
    """A child's environment: the bench database and Redis, its own queue, and ``code`` first on the path."""
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PATCHBAY_QUEUE": queue,
            "DJANGO_SETTINGS_MODULE": "backend.config.settings", "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-only-not-secret", "PATCHBAY_DATA_DIR": data_dir,
            "PYTHONPATH": str(code), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def prepare(database_url: str, env: dict[str, str], latency_ms: float,
            log: Callable[[str], None]) -> tuple[Any, str]:
    """Create and migrate the bench database, start the fake model in this process: (its server, its /v1 URL)."""
    sys.path.insert(0, str(ROOT))
    from bench._stack import ensure_database
    from bench.fake_openai import FakeConfig, start_in_thread

    ensure_database(database_url, log)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    fake = start_in_thread(FakeConfig(latency_ms=latency_ms))
    return fake, fake.url if fake.url.endswith("/v1") else f"{fake.url}/v1"


def trees(before: Path | None) -> list[tuple[str, Path]]:
    """The trees in the order each round measures them: the baseline first."""
    return ([("before", before.resolve())] if before else []) + [("after", ROOT)]


def create_runs(endpoint: Any, key: Any, n: int, tag: str) -> list[str]:
    """``n`` queued runs of ``endpoint``'s flow, made as a sync call makes them but never enqueued: the bench
    executes them itself. Inputs differ (``tag``, the clock), so no cache answers one from another."""
    from unittest import mock

    from backend.endpoints.calls import Call
    from backend.endpoints.services import flow_call_start

    ids = []
    with mock.patch("backend.runs.services.enqueue_run"):
        for i in range(n):
            call = Call(input={"text": f"{tag} {i} {time.time_ns()}"}, mode="sync", budget=None, callback_url=None,
                        timeout_s=None, request_hash=f"{tag}{i}{time.time_ns()}")
            started = flow_call_start(key=key, endpoint=endpoint, call=call, request_id=f"req-{tag}-{i}",
                                      idempotency_key=None)
            ids.append(str(started.run.pk))
    return ids


def gil_profiler(pid: int, path: str, hz: int = 200) -> subprocess.Popen[bytes]:
    """py-spy on the thread holding ``pid``'s GIL (without ``--gil`` py-spy counts pool threads waiting on their
    queue as busy and samples too slowly to see anything else); returns once it is attached."""
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--gil", "-r", str(hz), "-f", "raw",
                            "-o", path, "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached
    return spy


def profile_shares(path: str, n: int, areas: Sequence[tuple[str, tuple[str, ...]]],
                   hz: int = 200) -> list[tuple[str, float]]:
    """(area, ms of samples per run) from a py-spy raw file of ``n`` runs sampled at ``hz``: each stack counts for
    the first area one of whose needles it contains (the last area's "" takes the rest)."""
    hits: Counter[str] = Counter()
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        for label, needles in areas:
            if any(needle in stack for needle in needles):
                hits[label] += int(count)
                break
    return [(label, 1000 * hits[label] / hz / n) for label, _ in areas]
