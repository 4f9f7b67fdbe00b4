"""What the circuit breaker and the Models page cost.

1. Per model call: the gateway calling a demo route (no latency) without a breaker, with a closed breaker
   (one Redis EVAL per call), and short-circuiting an open alias to its fallback (no provider call), in
   alternating rounds so the shared machine's load hits all alike.
2. Per page load: ``models_overview`` (the Models page's one aggregate query over 24 h of spans, the
   breakers' pipelined Redis read, the events query) over a database holding ``--spans`` model-call spans.

    .venv/bin/python bench/breaker_overhead.py [--calls 2000] [--spans 20000]

Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379; override with BENCH_DATABASE_URL /
BENCH_REDIS_URL. The database (default ``patchbay_breaker_bench``) is created and migrated if missing.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, median, ms, p95, table, today, write_section  # noqa: E402
from bench._stack import ensure_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_breaker_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
ROUNDS = 4
ALIASES = 10


def setup_django() -> None:
    os.environ.update({"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "bench-only-not-secret",
                       "PATCHBAY_DATA_DIR": tempfile.mkdtemp(prefix="patchbay-breaker-"), "LOG_LEVEL": "WARNING",
                       "LITELLM_LOCAL_MODEL_COST_MAP": "True", "DJANGO_SETTINGS_MODULE": "backend.config.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


async def per_call(calls: int) -> dict[str, list[float]]:
    import redis.asyncio as aioredis

    from backend.engine.ports import LLMRequest
    from backend.providers.breaker import KEY_PREFIX, RedisBreaker
    from backend.providers.gateway import LiteLLMGateway, litellm_module
    from backend.providers.routes import BreakerPolicy, ModelRoute

    litellm_module()
    client = aioredis.Redis.from_url(REDIS_URL)
    fallback = ModelRoute(alias="bench-fallback", model="demo/fast")
    policy = BreakerPolicy(failures=5, window_s=60, cooldown_s=3600)
    routes = {
        "none": ModelRoute(alias="bench-plain", model="demo/fast"),
        "closed": ModelRoute(alias="bench-closed", model="demo/fast", breaker=policy),
        "open": ModelRoute(alias="bench-open", model="demo/fast", breaker=policy, fallbacks=(fallback,)),
    }
    await client.delete(*(KEY_PREFIX + r.alias for r in routes.values()))
    await client.hset(KEY_PREFIX + "bench-open", mapping={"state": "open", "until": int(time.time() * 1000) + 3_600_000})

    async def resolve(alias: str) -> ModelRoute:
        return routes[alias]

    gateway = LiteLLMGateway(resolve, RedisBreaker(lambda: client))
    messages = [{"role": "user", "content": "hello"}]
    times: dict[str, list[float]] = {k: [] for k in routes}
    for _ in range(ROUNDS):
        for variant in routes:
            for _ in range(calls // ROUNDS):
                start = time.perf_counter()
                result = await gateway.complete(LLMRequest(variant, messages))
                times[variant].append(time.perf_counter() - start)
            assert (result.fallback_from == ["bench-open"]) == (variant == "open")
    await client.delete(*(KEY_PREFIX + r.alias for r in routes.values()))
    await client.aclose()
    return times


def fill_spans(spans: int) -> None:
    import datetime as dt
    import random

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from backend.graphs.models import Graph
    from backend.graphs.services import graph_create, workspace_for_user
    from backend.runs.models import Run, Span

    user, _ = get_user_model().objects.get_or_create(username="breaker-bench", is_staff=True)
    have = Span.objects.filter(kind="llm", run__workspace__membership__user=user).count()
    if have >= spans:
        return
    workspace = workspace_for_user(user)
    spec = {"schema": "patchbay.graph/v1", "name": "bench", "nodes": [
        {"id": "in", "type": "input"}, {"id": "out", "type": "output", "config": {"value": "{{ input }}"}}],
        "edges": [{"from": "in", "to": "out"}]}
    graph = Graph.objects.filter(workspace=workspace).first() or graph_create(user=user, workspace=workspace,
                                                                              spec=spec)
    now, rng = timezone.now(), random.Random(1)
    for start in range(have, spans, 1000):
        run = Run.objects.create(workspace=workspace, graph=graph, graph_version=graph.latest_version, input={},
                                 trace_id="c" * 32, status="succeeded")
        Span.objects.bulk_create([
            Span(run=run, span_id=f"s{i}", kind="llm", name="llm", status="failed" if rng.random() < 0.05 else
                 "succeeded", started_at=now - dt.timedelta(seconds=rng.uniform(0, 86400)),
                 duration_ms=rng.uniform(50, 3000), cost_usd=rng.uniform(0, 0.01), error="",
                 attributes={"patchbay.model_alias": f"alias-{i % ALIASES}"})
            for i in range(start, min(start + 1000, spans))])


def per_page(loads: int) -> list[float]:
    from django.contrib.auth import get_user_model

    from backend.providers.health import models_overview

    user = get_user_model().objects.get(username="breaker-bench")
    times = []
    for _ in range(loads):
        start = time.perf_counter()
        models_overview(user)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="gateway calls per variant")
    parser.add_argument("--spans", type=int, default=20000, help="model-call spans in the last 24 h")
    args = parser.parse_args()
    ensure_database(DATABASE_URL, lambda m: print(m, file=sys.stderr))
    setup_django()
    where = machine()
    calls = asyncio.run(per_call(args.calls))
    fill_spans(args.spans)
    pages = per_page(20)
    words = {"none": "no breaker", "closed": "closed breaker (one Redis EVAL)",
             "open": "open: straight to the fallback (no provider call)"}
    rows = [[words[k], ms(median(v), 3), ms(p95(v), 3)] for k, v in calls.items()]
    body = f"""## Circuit breaker and Models page (`bench/breaker_overhead.py`, {today()})

{where}

Per gateway call to a demo model with no latency, {args.calls} calls per variant in {ROUNDS} alternating rounds
(Redis on loopback TCP):

{table(["call", "median ms", "p95 ms"], rows)}

One Models page load (`models_overview`: one aggregate query over {args.spans:,} model-call spans of the
last 24 h across {ALIASES} aliases, one pipelined Redis read, one events query), 20 loads:
median {ms(median(pages), 1)} ms, p95 {ms(p95(pages), 1)} ms.
"""
    write_section("breaker_overhead", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
