"""Helpers shared by the benchmarks: statistics, machine facts, and results.md sections.

Each benchmark owns one section of ``bench/results.md``, fenced by HTML comment
markers, and replaces only that section when it runs again. Numbers are
recorded, never asserted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.md"

HEADER = """# Patchbay benchmarks

How to reproduce: `make bench` runs every benchmark in sequence (`bench/run_all.py`); each one can also be run
on its own, e.g. `.venv/bin/python bench/engine_overhead.py` (pure engine, no services) or
`.venv/bin/python bench/stack_chain.py` (needs PostgreSQL on 127.0.0.1:5432 as user `postgres` and Redis on
127.0.0.1:6379; it creates the database `patchbay_bench`, migrates it, and starts its own Celery worker and Daphne
server; override with `BENCH_DATABASE_URL` / `BENCH_REDIS_URL`). Model calls go to a scripted in-process model
(engine benchmark) or to `bench/fake_openai.py` over HTTP through litellm (stack benchmark), so no network or money
is involved. Each script replaces only its own section below; the numbers are what one machine measured once, not
thresholds. Times are medians unless marked p95; p95 is the nearest-rank 95th percentile.
"""


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (the value 95 % of samples are at or below)."""
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 * n)
    return ordered[rank - 1]


def machine() -> str:
    """One line describing where the numbers were measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = "load average at start {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    return (f"`nproc`={os.cpu_count()} ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, {load}")


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, body: str) -> None:
    """Replace (or append) this benchmark's section in results.md, keeping the others."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    if not text.startswith("# "):
        text = HEADER + "\n" + text
    else:
        # Keep the header current without touching the sections.
        first_section = text.find("<!-- begin ")
        text = HEADER + ("\n" + text[first_section:] if first_section >= 0 else "")
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text.rstrip("\n") + "\n")
    print(f"wrote section '{name}' of {RESULTS.relative_to(ROOT)}", file=sys.stderr)


def ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1000:.{digits}f}"


def bench_workspace(username: str, model_url: str) -> tuple[Any, Any]:
    """The bench user and its workspace, emptied of earlier bench runs (then their endpoints, graphs and keys),
    and the ``bench100`` model alias pointed at ``model_url`` (a fake model). Needs Django set up."""
    from django.contrib.auth import get_user_model

    from backend.endpoints.models import ApiKey, Endpoint
    from backend.graphs.models import Graph
    from backend.graphs.services import workspace_for_user
    from backend.providers.models import ModelAlias
    from backend.runs.models import Run

    user, _ = get_user_model().objects.get_or_create(username=username)
    workspace = workspace_for_user(user)
    Run.objects.filter(workspace=workspace).delete()
    Endpoint.objects.filter(workspace=workspace).delete()
    Graph.objects.filter(workspace=workspace).delete()
    ApiKey.objects.filter(workspace=workspace).delete()
    ModelAlias.objects.update_or_create(alias="bench100", defaults={
        "model": "openai/gpt-4o-mini", "api_base": model_url, "api_key_env": "PATH", "enabled": True,
        "fallbacks": [], "max_retries": 2, "timeout_s": 30})
    return user, workspace


def django_with_fake_alias(root: Path, *, tag: str, database_url: str, redis_url: str, fake_url: str,
                           alias: str) -> None:
    """In a bench's child process: Django set up on ``root``'s code and the bench database, with model alias
    ``alias`` routed to the fake OpenAI-compatible server at ``fake_url`` (registry caches told at once)."""
    import tempfile

    sys.path.insert(0, str(root))
    os.environ.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench-only-not-secret",
                       "PATCHBAY_DATA_DIR": tempfile.mkdtemp(prefix=f"patchbay-{tag}-"), "LOG_LEVEL": "WARNING",
                       "LITELLM_LOCAL_MODEL_COST_MAP": "True", "DJANGO_SETTINGS_MODULE": "backend.config.settings",
                       "BENCH_FAKE_KEY": "bench-key"})
    import django

    django.setup()
    from backend.providers.models import ModelAlias
    from backend.providers.registry import bump_registry_version

    ModelAlias.objects.update_or_create(alias=alias, defaults={
        "model": "openai/gpt-4o-mini", "api_base": fake_url, "api_key_env": "BENCH_FAKE_KEY", "enabled": True,
        "fallbacks": [], "max_retries": 2, "timeout_s": 30})
    bump_registry_version()


def call_bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options of the per-model-call CPU benches (model_call_cpu, litellm_call_cpu): trees alternating in a
    child process each, against the fake model; ``--child``/``--fake-url`` are how the parent starts a child."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--before", type=Path, help="a baseline tree measured alongside this one")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fake-url", help=argparse.SUPPRESS)
    return parser
