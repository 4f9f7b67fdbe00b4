"""PostgreSQL's own work per published chain3 run, before and after, in one session (issue 16).

Each tree gets its own database, migrated by that tree's own migrations (so "before" has the baseline's indexes),
and runs ``bench/worker_store.py``'s child on it: a warm-up, a counted and a timed pass of ``--runs`` chain3 runs
each (3 llm steps through litellm to ``bench/fake_openai.py``), ``--concurrency`` at a time on the worker's run
loop. Around each child this bench reads, for that database only:

- PostgreSQL backend CPU per run (the child's timed pass, from /proc of the backends serving the database);
- the WAL the database's transactions wrote (Heap DELETE records left out: the child's set-up deletes the
  previous pass's runs) (``pg_waldump`` between the LSNs before and after the child, keeping
  the records of relations in the database and the commit records of the transactions that wrote them): bytes
  per run with and without full-page images, so other sessions sharing the server do not count;
- btree index entries written per run, per index (the WAL's Btree INSERT_LEAF / INSERT_POST records, exact;
  a unique index's entry is written even when the upsert then takes the conflict path);
- heap row versions per run per table, and how many updates were HOT (the WAL's HOT_UPDATE vs UPDATE records).

Trees alternate ``--rounds`` times; medians per tree, with ``--write`` into bench/results.md (postgres_per_run).

    .venv/bin/python bench/postgres_per_run.py --before /tmp/pg-base [--runs 60] [--concurrency 64] [--write]

Needs PostgreSQL (local, its WAL directory readable: run as root or postgres) and Redis (BENCH_DATABASE_URL names
the database prefix, BENCH_REDIS_URL the Redis db).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _trees import prepare, tree_env, tree_parser, trees

ROOT = Path(__file__).resolve().parents[1]
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_postgres_per_run")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
WALDUMP = "/usr/lib/postgresql/15/bin/pg_waldump"
RECORD = re.compile(r"rmgr: (\w+)\s+len \(rec/tot\):\s+(\d+)/\s*(\d+), tx:\s+(\d+), lsn: \S+, prev \S+, "
                    r"desc: (\w+)(.*)")
RELATION = re.compile(r"rel \d+/(\d+)/(\d+)")


def log(message: str) -> None:
    print(f"[postgres_per_run {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url(tag: str) -> str:
    return f"{BASE_URL}_{tag}"


def _sql(url: str, query: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(query).fetchall()]


def _relations(url: str) -> tuple[int, dict[int, str], str]:
    """The database's oid, its relations' file nodes → names (the run tables and their indexes), the WAL dir."""
    oid = int(_sql(url, "SELECT oid FROM pg_database WHERE datname = current_database()")[0][0])
    rows = _sql(url, "SELECT c.relfilenode, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't')")
    wal_dir = str(Path(_sql(url, "SHOW data_directory")[0][0]) / "pg_wal")
    return oid, {int(node): name for node, name in rows}, wal_dir


def wal_of(url: str, start: str, end: str) -> dict[str, Any]:
    """The WAL records between two LSNs that belong to this database, summed (see the module's docstring)."""
    oid, names, wal_dir = _relations(url)
    out = subprocess.run([WALDUMP, "-p", wal_dir, "-s", start, "-e", end], capture_output=True, text=True)
    if not out.stdout:
        raise RuntimeError(f"pg_waldump: {out.stderr[-500:]}")
    ours_tx: set[str] = set()
    commits: dict[str, tuple[int, int]] = {}
    total = Counter[str]()
    index_entries, heap = Counter[str](), defaultdict(Counter)  # type: ignore[var-annotated]
    for line in out.stdout.splitlines():
        match = RECORD.match(line)
        if match is None:
            continue
        rmgr, rec, tot, tx, desc, rest = match.groups()
        if rmgr == "Transaction" and desc == "COMMIT":
            commits[tx] = (int(rec), int(tot))
            continue
        relations = RELATION.findall(rest)
        if not relations or int(relations[0][0]) != oid:
            continue
        if rmgr == "Heap" and desc == "DELETE":
            # the child's set-up deletes the previous pass's runs (and, by cascade, their rows): not a run's work
            continue
        ours_tx.add(tx)
        total["rec"] += int(rec)
        total["tot"] += int(tot)
        name = names.get(int(relations[0][1]), f"filenode {relations[0][1]}")
        if rmgr == "Btree" and desc in ("INSERT_LEAF", "INSERT_POST"):
            index_entries[name] += 1
        elif rmgr in ("Heap", "Heap2") and desc in ("INSERT", "UPDATE", "HOT_UPDATE", "MULTI_INSERT", "LOCK"):
            heap[name][desc] += int(rest.split("ntuples: ")[1].split(",")[0]) if desc == "MULTI_INSERT" else 1
    for tx in ours_tx:
        rec, tot = commits.get(tx, (0, 0))
        total["rec"] += rec
        total["tot"] += tot
    return {"bytes": dict(total), "index_entries": dict(index_entries), "heap": {k: dict(v) for k, v in heap.items()}}


def run_tree(tag: str, code: Path, args: Any, model_url: str) -> dict[str, Any]:
    url = database_url(tag)
    env = {**tree_env(code, queue=f"q_bench_pg_{tag}", database_url=url, redis_url=REDIS_URL,
                      data_dir="/tmp/pb-postgres-per-run-data"), "BENCH_DATABASE_URL": url}
    import psycopg

    # A temporary physical slot holds the window's WAL until pg_waldump has read it (other sessions' WAL can
    # bring a checkpoint that recycles it meanwhile); it goes with this connection.
    holder = psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)
    holder.execute(f"SELECT pg_create_physical_replication_slot('pb_postgres_per_run_{os.getpid()}', true, true)")
    start = _sql(url, "SELECT pg_current_wal_insert_lsn()")[0][0]
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "worker_store.py"), "--child", "--code", str(code),
                          "--model-url", model_url, "--runs", str(args.runs), "--concurrency",
                          str(args.concurrency)], cwd=code, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tag}: child failed:\n{out.stderr[-3000:]}")
    end = _sql(url, "SELECT pg_current_wal_insert_lsn()")[0][0]
    child = json.loads(out.stdout.strip().splitlines()[-1])
    try:
        wal = wal_of(url, str(start), str(end))
    finally:
        holder.close()
    runs = 3 * args.runs  # warm-up, counted and timed passes all write
    return {"pg_ms_per_run": child["pg_ms_per_run"], "statuses": child["statuses"],
            "wal_bytes_per_run": wal["bytes"].get("tot", 0) / runs,
            "wal_bytes_no_fpi_per_run": wal["bytes"].get("rec", 0) / runs,
            "index_entries_per_run": {k: v / runs for k, v in wal["index_entries"].items()},
            "heap_per_run": {t: {k: v / runs for k, v in ops.items()} for t, ops in wal["heap"].items()}}


def _migrate(tag: str, code: Path) -> None:
    from bench._stack import ensure_database

    url = database_url(tag)
    ensure_database(url, log)
    env = tree_env(code, queue=f"q_bench_pg_{tag}", database_url=url, redis_url=REDIS_URL,
                   data_dir="/tmp/pb-postgres-per-run-data")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=code, env=env, check=True)


def report(results: dict[str, list[dict[str, Any]]], args: Any) -> str:
    from bench._common import machine, median, table, today

    rows, details = [], []
    tables = ("runs_run", "runs_runevent", "runs_span", "endpoints_endpointcall")
    for tag, rounds in results.items():
        entries = [sum(r["index_entries_per_run"].values()) for r in rounds]
        run_table = [sum(r["index_entries_per_run"].get(k, 0) for k in r["index_entries_per_run"]
                         if k.startswith("run") and "runevent" not in k and "span" not in k) for r in rounds]
        pg = [r["pg_ms_per_run"] for r in rounds]
        wal = [r["wal_bytes_per_run"] for r in rounds]
        wal_rec = [r["wal_bytes_no_fpi_per_run"] for r in rounds]
        rows.append([tag, len(rounds), " / ".join(f"{p:.1f}" for p in pg), f"{median(pg):.1f}",
                     f"{median(wal):,.0f}", f"{median(wal_rec):,.0f}", f"{median(entries):.1f}",
                     f"{median(run_table):.1f}"])
        last = rounds[-1]
        per_index = ", ".join(f"{k} {v:.1f}" for k, v in sorted(last["index_entries_per_run"].items(),
                                                                 key=lambda kv: (-kv[1], kv[0])) if v >= 0.05)
        heap = "; ".join(f"{t}: " + ", ".join(f"{op} {n:.1f}" for op, n in sorted(last["heap_per_run"][t].items()))
                         for t in tables if t in last["heap_per_run"])
        details.append(f"- **{tag}** (last round) — index entries per run by index: {per_index}. "
                       f"Heap records per run: {heap}. Statuses: {last['statuses']}")
    return "\n".join([
        "## PostgreSQL's own work per published chain3 run (`bench/postgres_per_run.py`, issue 16)",
        "",
        f"{args.runs} chain3 runs per pass (3 llm steps through litellm, `bench/fake_openai.py` at "
        f"{args.latency_ms:g} ms per call), {args.concurrency} at a time on the worker's run loop "
        "(`bench/worker_store.py`'s child, no web server or Celery); each tree on its own database migrated by "
        "its own migrations; trees alternate. CPU: the PostgreSQL backends serving the database over the timed "
        "pass. WAL, index entries and heap records: from `pg_waldump` between the LSNs around the child, only "
        "this database's records and its transactions' commits (the child's set-up deleting the previous "
        "pass's runs left out), per run over the three passes (warm-up, counted, timed). Index entries are Btree INSERT_LEAF/INSERT_POST records: exact, every index.",
        "",
        f"Conditions: {machine()}; {today()}; PostgreSQL 15 shared with other sessions (its CPU numbers are upper "
        "bounds; WAL and index counts are this database's alone).",
        "",
        table(["tree", "rounds", "PostgreSQL CPU ms/run (each round)", "median", "WAL bytes/run (median)",
               "of it without full-page images", "btree entries/run (median)", "of them in runs_run's indexes"],
              rows),
        "",
        *details,
    ])


def main() -> None:
    parser = tree_parser(__doc__, rounds=3, latency_ms=50.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench._common import median, write_section

    tree_list = trees(args.before)
    for tag, code in tree_list:
        _migrate(tag, code)
    env = tree_env(ROOT, queue="q_bench_pg", database_url=database_url("after"), redis_url=REDIS_URL,
                   data_dir="/tmp/pb-postgres-per-run-data")
    _fake, model_url = prepare(database_url("after"), env, args.latency_ms, log)
    results: dict[str, list[dict[str, Any]]] = {tag: [] for tag, _ in tree_list}
    for round_no in range(args.rounds):
        for tag, code in tree_list:
            log(f"round {round_no + 1}: {tag}")
            results[tag].append(run_tree(tag, code, args, model_url))
            log(f"  pg {results[tag][-1]['pg_ms_per_run']:.1f} ms/run, "
                f"WAL {results[tag][-1]['wal_bytes_per_run']:,.0f} B/run")
    body = report(results, args)
    print(body)
    if len(results) == 2:
        print({k: median([r["pg_ms_per_run"] for r in v]) for k, v in results.items()})
    if args.write:
        write_section("postgres_per_run", body)


if __name__ == "__main__":
    main()
