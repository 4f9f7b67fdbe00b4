"""What the in-worker benches (worker_store, worker_runtime) share: their command line, a tree's environment, and
the set-up before the trees alternate (bench database migrated, fake model up).

Each bench measures this checkout ("after") and optionally ``--before DIR`` (another checkout), round by round in
child processes, so the machine's load hits both trees alike.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
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
