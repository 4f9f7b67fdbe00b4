"""Bytes a run of graphs/chain.json leaves in PostgreSQL, per table, before and after retention prunes it.

Runs go through the worker's own path in this process: ``execute_run_async`` (the engine, demo models through
litellm, the event sink writing to PostgreSQL and publishing on the Redis channel layer), one run at a time,
each with a different note so no step is answered from the cache. Then it measures, per table:

- row bytes: ``sum(pg_column_size(t.*))`` over the rows of these runs (the stored tuples, TOAST-compressed
  values included; no index or page overhead);
- relation bytes: the growth of ``pg_total_relation_size`` (heap + TOAST + indexes) over the N runs;

and the event payload bytes by event type. Finally it ages every run past the event window, runs
``runs_prune`` and measures the row bytes a pruned run keeps.

    .venv/bin/python bench/storage_per_run.py [--runs 200]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379; override with
BENCH_DATABASE_URL / BENCH_REDIS_URL. The database (default ``patchbay_storage_bench``) is created and
migrated if missing; its runs are deleted and its run tables compacted first.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, table, today, write_section  # noqa: E402
from bench._stack import ensure_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_storage_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TABLES = [("run", "runs_run", "id"), ("events", "runs_runevent", "run_id"), ("spans", "runs_span", "run_id")]
NOTE = ("I was charged twice for my subscription this month (order {i}), please refund the second payment "
        "and tell me why it happened. Also my invoice address is wrong.")


def setup_django() -> None:
    os.environ.update({"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "bench-only-not-secret",
                       "PATCHBAY_DATA_DIR": tempfile.mkdtemp(prefix="patchbay-storage-"), "LOG_LEVEL": "WARNING",
                       "DJANGO_SETTINGS_MODULE": "backend.config.settings", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def sizes(run_ids: list[str]) -> dict[str, tuple[int, int]]:
    """table → (row bytes of these runs, total relation bytes)."""
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for label, name, key in TABLES:
            cursor.execute(f"SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM {name} t WHERE t.{key} = ANY(%s::uuid[])",
                           [run_ids])
            rows = cursor.fetchone()[0]
            cursor.execute("SELECT pg_total_relation_size(%s)", [name])
            out[label] = (int(rows), int(cursor.fetchone()[0]))
    return out


def payload_by_type(run_ids: list[str]) -> list[tuple[str, int, int, int, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        # The last column: the same payloads without the span's input/output bodies, which the span row
        # already holds (what storing each body once, and joining it back on replay, would save).
        cursor.execute("SELECT type, count(*), sum(pg_column_size(payload)), "
                       "sum(pg_column_size(payload #- '{span,input}' #- '{span,output}')), sum(pg_column_size(payload - 'span')) "
                       "FROM runs_runevent "
                       "WHERE run_id = ANY(%s::uuid[]) GROUP BY type ORDER BY 3 DESC", [run_ids])
        return [(t, int(c), int(b), int(w), int(r)) for t, c, b, w, r in cursor.fetchall()]


def run_all(n: int) -> list[str]:
    from django.contrib.auth import get_user_model

    from backend.graphs.services import graph_create, workspace_for_user
    from backend.runs.execution import execute_run_async
    from backend.runs.models import Run

    user, _ = get_user_model().objects.get_or_create(username="storage-bench")
    workspace = workspace_for_user(user)
    spec = json.loads((ROOT / "graphs" / "chain.json").read_text())
    graph = graph_create(workspace=workspace, user=user, spec=spec, message="storage bench")
    ids = [str(Run.objects.create(workspace=workspace, graph=graph, graph_version=graph.latest_version,
                                  input={"text": NOTE.format(i=i)}, trace_id=os.urandom(16).hex(), source="cli").pk)
           for i in range(n)]

    async def main() -> None:
        for run_id in ids:
            await execute_run_async(run_id)

    asyncio.run(main())
    statuses = set(Run.objects.filter(pk__in=ids).values_list("status", flat=True))
    if statuses != {"succeeded"}:
        raise SystemExit(f"runs ended {statuses}, expected all succeeded")
    return ids


def kib(value: float) -> str:
    return f"{value / 1024:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    ensure_database(DATABASE_URL, lambda m: print(m, file=sys.stderr))
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from backend.runs.models import Run
    from backend.runs.retention import runs_prune

    started = time.perf_counter()
    Run.objects.all().delete()
    with connection.cursor() as cursor:  # the bench's own database: start from compact tables, so growth is real
        cursor.execute("VACUUM FULL runs_run, runs_runevent, runs_span")
    before = sizes([])
    ids = run_all(args.runs)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE runs_run, runs_runevent, runs_span")
    after = sizes(ids)
    by_type = payload_by_type(ids)
    events_per_run = sum(c for _, c, _, _, _ in by_type) / len(ids)

    aged = timezone.now() - dt.timedelta(days=31)  # past the default event window (30), inside the run window
    Run.objects.filter(pk__in=ids).update(created_at=aged, finished_at=aged)
    report = runs_prune(now=timezone.now())
    pruned = sizes(ids)
    wall = time.perf_counter() - started

    n = len(ids)
    total_rows = sum(r for r, _ in after.values())
    total_pruned = sum(r for r, _ in pruned.values())
    rows = [[label, kib(after[label][0] / n), f"{100 * after[label][0] / total_rows:.0f} %",
             kib((after[label][1] - before[label][1]) / n), kib(pruned[label][0] / n)] for label, _, _ in TABLES]
    rows.append(["**all**", kib(total_rows / n), "100 %",
                 kib(sum(after[k][1] - before[k][1] for k in after) / n), kib(total_pruned / n)])
    type_rows = [[t, f"{c / n:.1f}", kib(b / n), f"{100 * b / after['events'][0]:.0f} %", kib(w / n), kib(r / n)]
                 for t, c, b, w, r in by_type]
    duplicated = sum(b - w for _, _, b, w, _ in by_type)
    whole_span = sum(b - r for _, _, b, _, r in by_type)
    body = f"""## Storage per run of `graphs/chain.json` (`bench/storage_per_run.py`)

{n} runs of `graphs/chain.json` (3 model calls, demo models, a different note each so nothing is cached) through
the worker's own path in one process (`execute_run_async`: engine → sink → PostgreSQL + Redis channel layer),
one after another. *Row KiB/run* is `sum(pg_column_size(row))` over the rows of these runs (stored tuples,
TOAST-compressed values included, no index or page overhead); *relation KiB/run* is the growth of
`pg_total_relation_size` (heap + TOAST + indexes) divided by the runs. *After pruning*: the same runs aged past the
event window (30 days), then `runs_prune` (events but the final `run.completed` deleted, span input/output
dropped, run rows and span rows kept); the freed space is reused by later rows after autovacuum (the files do
not shrink without `VACUUM FULL`).

Conditions: {machine()}; {today()}; PostgreSQL `{connection.pg_version}`; {events_per_run:.1f} stored events per run;
prune removed {report.counts['run_events']} events and {report.counts['span_payloads']} span bodies in the pass;
total wall {wall:.1f} s.

{table(["table", "row KiB/run", "share", "relation KiB/run", "row KiB/run after pruning"], rows)}

Event payloads by type (before pruning):

{table(["event type", "per run", "payload KiB/run", "share of event bytes", "without span input/output KiB/run",
         "without the span KiB/run"],
        type_rows)}

Span input/output bodies repeated inside event payloads (the span row holds the same values):
{kib(duplicated / n)} KiB/run, {100 * duplicated / total_rows:.0f} % of a run's row bytes; the whole span objects
in events (every field of which the span row holds): {kib(whole_span / n)} KiB/run, {100 * whole_span / total_rows:.0f} %.

Why events are not slimmed (yet): the span objects inside `node.*` and `span.completed` events repeat what the
span rows hold. Storing each event with a reference to its span, and joining the row back in `events_after`,
would save the share above, but every reader of stored events (the websocket replay, SSE, the polling fallback)
would then depend on that join reproducing each span exactly as it was sent live; retention already brings a
run past its events window down to the last column. A candidate for its own change, with a test that replays
every event of a run byte for byte.
"""
    write_section("storage_per_run", body)
    print(body)


if __name__ == "__main__":
    main()
